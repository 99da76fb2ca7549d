# dist::Queue: a list and counters in Redis, driven by Lua scripts.
target_sources(weft_dist PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/queue.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queue_connections.cpp
  ${CMAKE_CURRENT_LIST_DIR}/queue_scripts.cpp)
