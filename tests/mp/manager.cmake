# The manager: containers and proxies, children of every start method,
# reference counting, registered types, remote managers and faults.

weft_add_test(test_mp_manager
  SOURCES test_manager_containers.cpp test_manager_processes.cpp test_manager_register.cpp
  LABELS mp threads)

# The program the remote tests run: it serves a manager, or uses one, and
# shares nothing with the tests but the address and the key.
add_executable(manager_remote_peer manager_remote_peer.cpp)
target_link_libraries(manager_remote_peer PRIVATE weft::weft)
target_include_directories(manager_remote_peer PRIVATE ${PROJECT_SOURCE_DIR}/tests)

weft_add_test(test_mp_manager_fault
  SOURCES test_manager_remote.cpp test_manager_faults.cpp
  LABELS mp threads fault)
add_dependencies(test_mp_manager_fault manager_remote_peer)
target_compile_definitions(test_mp_manager_fault PRIVATE
  WEFT_MANAGER_PEER="$<TARGET_FILE:manager_remote_peer>")

# The shared-memory call channel of local connections (its internals too).
weft_add_test(test_mp_manager_channel SOURCES test_manager_channel.cpp LABELS mp threads fault)
target_include_directories(test_mp_manager_channel PRIVATE ${PROJECT_SOURCE_DIR}/src/mp)
