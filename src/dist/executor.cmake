# dist::Executor: submission, the sender and receiver threads.
target_sources(weft_dist PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/executor.cpp
  ${CMAKE_CURRENT_LIST_DIR}/executor_sender.cpp
  ${CMAKE_CURRENT_LIST_DIR}/executor_receiver.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_entries.cpp)
