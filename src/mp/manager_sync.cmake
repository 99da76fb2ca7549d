# The manager's synchronisation objects and queues (server side).
target_sources(weft PRIVATE
  manager_sync.cpp manager_sync_lock.cpp manager_sync_locks.cpp manager_sync_semaphore.cpp
  manager_sync_event.cpp manager_sync_condition.cpp manager_sync_barrier.cpp manager_sync_queue.cpp)
