# tests of weft::aio — generator: the synchronous and the asynchronous ones
weft_add_test(aio_generator
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_generator.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_async_generator.cpp)
