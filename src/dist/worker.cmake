# The worker side: the task registry, the serve loop, its watchdog, the
# answers and dead letters it writes, worker processes and their bootstrap.
target_sources(weft_dist PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/registry.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_task.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_answer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_watchdog.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_stop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_spawn.cpp
  ${CMAKE_CURRENT_LIST_DIR}/worker_bootstrap.cpp)
