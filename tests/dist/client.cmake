# The Redis client against a real redis-server (redis_server.hpp).
weft_add_test(dist_redis SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_redis.cpp LABELS threads)
target_link_libraries(dist_redis PRIVATE weft::dist)
