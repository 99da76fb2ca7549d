# weft::aio — the task, its loop, sleep, the combinators and threads.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/errors.cpp
  ${CMAKE_CURRENT_LIST_DIR}/task_state.cpp
  ${CMAKE_CURRENT_LIST_DIR}/task.cpp
  ${CMAKE_CURRENT_LIST_DIR}/future.cpp
  ${CMAKE_CURRENT_LIST_DIR}/event_loop.cpp
  ${CMAKE_CURRENT_LIST_DIR}/event_loop_signals.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sleep.cpp
  ${CMAKE_CURRENT_LIST_DIR}/runner.cpp
  ${CMAKE_CURRENT_LIST_DIR}/task_watch.cpp
  ${CMAKE_CURRENT_LIST_DIR}/gather.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wait.cpp
  ${CMAKE_CURRENT_LIST_DIR}/timeout.cpp
  ${CMAKE_CURRENT_LIST_DIR}/task_group.cpp)
# asyncio and threads: wrap_future, run_in_executor, to_thread,
# run_coroutine_threadsafe.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/future_wakeup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/threadsafe_task.cpp)
