# weft::aio — streams: open_connection, start_server, StreamReader,
# StreamWriter and Server on the loop's IO core.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/stream_transport.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_reader.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stream_writer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server_state.cpp
  ${CMAKE_CURRENT_LIST_DIR}/server.cpp
  ${CMAKE_CURRENT_LIST_DIR}/open_connection.cpp
  ${CMAKE_CURRENT_LIST_DIR}/resolve.cpp)
# Subprocesses: create_subprocess_exec/shell and Process.
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/spawn.cpp
  ${CMAKE_CURRENT_LIST_DIR}/process_state.cpp
  ${CMAKE_CURRENT_LIST_DIR}/subprocess.cpp)
