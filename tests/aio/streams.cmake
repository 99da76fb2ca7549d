# tests of weft::aio — streams
weft_add_test(aio_streams
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_streams.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_streams_flow.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_streams_server.cpp)
