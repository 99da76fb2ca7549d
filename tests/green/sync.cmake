# gevent's synchronisation objects, the queues and Channel, Group and Pool.
weft_add_test(test_green_event SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_event.cpp LABELS green threads)
weft_add_test(test_green_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.cpp LABELS green threads)
weft_add_test(test_green_channel SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_channel.cpp LABELS green threads)
weft_add_test(test_green_lock SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_lock.cpp LABELS green threads)
weft_add_test(test_green_pool SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_pool.cpp LABELS green threads)
