# Pool and ProcessPoolExecutor: every call under each start method, and
# workers that die (SIGKILL, abort, segfault) in the middle of the work.
weft_add_test(test_mp_pool SOURCES test_pool.cpp LABELS mp threads)
weft_add_test(test_mp_pool_fault SOURCES test_pool_fault.cpp LABELS mp fault)
weft_add_test(test_mp_process_pool_executor SOURCES test_process_pool_executor.cpp LABELS mp threads)
