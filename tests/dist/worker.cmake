# The worker, driven through raw Redis commands: in-process workers on a
# thread and worker processes that are runs of this executable.
weft_add_test(dist_worker SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_worker.cpp LABELS threads)
target_link_libraries(dist_worker PRIVATE weft::dist)
