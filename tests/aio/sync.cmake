# tests of weft::aio — sync: the synchronisation primitives and the queues.
foreach(primitive lock event condition semaphore barrier)
  weft_add_test(aio_sync_${primitive} SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_sync_${primitive}.cpp)
endforeach()
weft_add_test(aio_queue SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_queue.cpp)
