# tests of weft::aio — core
weft_add_test(aio_task SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_task.cpp ${CMAKE_CURRENT_LIST_DIR}/test_future.cpp)
weft_add_test(aio_combinators SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_combinators.cpp)
weft_add_test(aio_threads SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_threads.cpp LABELS threads)
weft_add_test(aio_subprocess SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_subprocess.cpp)
weft_add_test(aio_signals SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_signals.cpp)
