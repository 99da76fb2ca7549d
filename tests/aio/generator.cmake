# tests of weft::aio — generator
weft_add_test(aio_generator SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_generator.cpp)
