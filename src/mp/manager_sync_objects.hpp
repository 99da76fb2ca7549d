// The synchronisation objects and queues a manager's server holds, one
// factory per kind. On the wire every timeout is optional seconds (a
// double, nil for none) and every blocking method takes Python's
// (block, timeout) pair; methods and their argument tuples:
//   Lock, RLock, Semaphore, BoundedSemaphore:
//       acquire(block, timeout) -> bool, release(), locked() -> bool
//   Condition: the same, plus wait(timeout) -> bool, notify(n), notify_all()
//   Event: is_set() -> bool, set(), clear(), wait(timeout) -> bool
//   Barrier: wait(timeout) -> index, abort(), reset(), parties(),
//       n_waiting(), broken()
//   Queue, JoinableQueue (items are their encodings, as strings):
//       put(item, block, timeout), put_nowait(item), try_put(item, block,
//       timeout) -> bool, get(block, timeout) -> item, get_nowait(),
//       try_get(block, timeout) -> optional item, qsize(), empty(), full(),
//       task_done(), join(timeout) -> bool, shutdown(immediate)
#pragma once

#include <memory>
#include <string_view>

#include "weft/mp/manager/managed.hpp"

namespace weft::mp::manager::detail {

// "Lock" (recursive = false) or "RLock"; no constructor arguments.
std::unique_ptr<Managed> make_lock(bool recursive);
// "Semaphore" or "BoundedSemaphore"; arguments (value = 1).
std::unique_ptr<Managed> make_semaphore(std::string_view args, bool bounded);
// "Event"; no arguments.
std::unique_ptr<Managed> make_event();
// "Condition" over its own RLock; no arguments.
std::unique_ptr<Managed> make_condition();
// "Barrier"; arguments (parties, timeout = none).
std::unique_ptr<Managed> make_barrier(std::string_view args);
// "Queue" or "JoinableQueue"; arguments (maxsize = 0, which is unbounded,
// as is any maxsize <= 0).
std::unique_ptr<Managed> make_queue(std::string_view args, const char* type_name);

}  // namespace weft::mp::manager::detail
