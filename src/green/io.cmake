# Cooperative IO: readiness waits on the hub, green::socket, StreamServer,
# and monkey patching of the blocking C library calls (only programs that
# call patch_all() link monkey.cpp and what it uses).
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/wait_table.cpp
  ${CMAKE_CURRENT_LIST_DIR}/wait.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/monkey.cpp
  ${CMAKE_CURRENT_LIST_DIR}/monkey_cooperative.cpp
  ${CMAKE_CURRENT_LIST_DIR}/monkey_got.cpp
  ${CMAKE_CURRENT_LIST_DIR}/monkey_libc.cpp)
target_link_libraries(weft PRIVATE ${CMAKE_DL_LIBS})  # dlsym, dl_iterate_phdr
