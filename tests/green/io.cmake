# Cooperative IO: wait_readable/wait_writable and green::socket,
# StreamServer, and monkey::patch_all (with libcurl and hiredis when found).
weft_add_test(test_green_socket SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_socket.cpp LABELS green threads)
weft_add_test(test_green_server SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_server.cpp LABELS green threads)
weft_add_test(test_green_monkey SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_monkey.cpp LABELS green threads)
# The real blocking C libraries patch_all() is proved with (Debian's
# libcurl4-openssl-dev and libhiredis-dev).
find_package(CURL REQUIRED)
find_path(WEFT_HIREDIS_INCLUDE_DIR hiredis/hiredis.h REQUIRED)
find_library(WEFT_HIREDIS_LIBRARY hiredis REQUIRED)
target_include_directories(test_green_monkey PRIVATE ${WEFT_HIREDIS_INCLUDE_DIR})
target_link_libraries(test_green_monkey PRIVATE CURL::libcurl ${WEFT_HIREDIS_LIBRARY})
