# gevent's synchronisation objects: Event, AsyncResult, the semaphores and
# locks, the queues and Channel (header-only), Group and Pool.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/sync_wait_list.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync_event.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync_lock.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sync_pool.cpp)
