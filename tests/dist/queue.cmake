# dist::Queue against a real redis-server (redis_server.hpp): threads and
# forked processes on one queue.
weft_add_test(dist_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.cpp LABELS threads)
target_link_libraries(dist_queue PRIVATE weft::dist)
