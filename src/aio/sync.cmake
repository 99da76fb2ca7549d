# weft::aio — sync: Lock, Event, Condition, Semaphore, Barrier (sources) and
# the queues (header-only, include/weft/aio/queue.hpp).
target_sources(weft PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/semaphore.cpp
  ${CMAKE_CURRENT_LIST_DIR}/condition.cpp
  ${CMAKE_CURRENT_LIST_DIR}/barrier.cpp)
