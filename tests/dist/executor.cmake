# dist::Executor: results, registration, shutdown; worker deaths, Redis
# restarts and malformed entries.
weft_add_test(dist_executor SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_executor.cpp LABELS threads)
target_link_libraries(dist_executor PRIVATE weft::dist)
weft_add_test(dist_executor_faults SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_executor_faults.cpp LABELS "threads;fault")
target_link_libraries(dist_executor_faults PRIVATE weft::dist)
