# The hub, gevent's Greenlet, sleep and Timeout; wait and iwait.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/hub.cpp
  ${CMAKE_CURRENT_LIST_DIR}/greenlet_task.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sleep.cpp
  ${CMAKE_CURRENT_LIST_DIR}/signal.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timeout.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wait_objects.cpp)
