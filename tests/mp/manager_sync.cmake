# The manager's synchronisation objects and queues: the server objects
# called directly (threads stand for the clients), their proxies through a
# Manager, children of the fork and spawn start methods sharing them, and
# children killed while holding or waiting on them.
weft_add_test(test_mp_manager_sync
  SOURCES test_manager_sync_lock.cpp test_manager_sync_wait.cpp test_manager_sync_queue.cpp
  LABELS mp threads)
weft_add_test(test_mp_manager_sync_proxies
  SOURCES test_manager_sync_proxies.cpp test_manager_sync_processes.cpp
  LABELS mp threads)
weft_add_test(test_mp_manager_sync_fault SOURCES test_manager_sync_fault.cpp LABELS mp threads fault)
