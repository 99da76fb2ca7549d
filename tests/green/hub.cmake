# The hub (park, wake, LoopExit, dump, threads), gevent's Greenlet and
# spawn, sleep and Timeout, wait and iwait.
weft_add_test(test_green_hub SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_hub.cpp LABELS green threads)
weft_add_test(test_green_spawn SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_spawn.cpp LABELS green threads)
weft_add_test(test_green_timeout SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_timeout.cpp LABELS green threads)
weft_add_test(test_green_wait_objects SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_wait_objects.cpp LABELS green threads)
weft_add_test(test_green_signal SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_signal.cpp LABELS green)
