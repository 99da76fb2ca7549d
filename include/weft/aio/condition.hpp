// weft/aio/condition.hpp — aio::Condition, Python's asyncio.Condition: tasks
// wait, holding a lock, until another task notifies them.
//
//   auto held = co_await cond.scoped();              // async with cond:
//   co_await cond.wait_for([&] { return ready; });   //   wait until ready
//   ...
//   // elsewhere, holding the lock:
//   ready = true;
//   cond.notify();
//
// A condition uses a Lock of its own, or one given to the constructor (to
// share it between conditions); acquire(), release(), locked() and
// scoped() are that lock's. wait() releases the lock, suspends until
// notify() or notify_all(), then takes the lock again before it returns —
// also when the task was cancelled while it waited: as in Python, the
// CancelledError reaches the caller only once the lock is held again (a
// cancellation that arrives while it re-acquires is kept for then too).
// A waiter that was notified but ends with an exception passes the
// notification on to the next waiter, so none is lost. Waiters are notified
// in the order they began to wait. As in Python, wait() may return without
// the awaited state having come about (another task may have run first):
// check it again, or use wait_for().
//
// wait() and wait_for() are coroutines (Task), as in Python: awaiting one
// allocates its frame. notify() never suspends.
//
// Not thread-safe: use a condition from the tasks of one loop only
// (weft::Condition is the thread-safe one). Not copyable or movable;
// destroying one that tasks wait on is undefined behaviour.
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>

#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/held.hpp"
#include "weft/aio/lock.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

class Condition {
 public:
  // A condition with a lock of its own.
  Condition() noexcept : lock_(own_lock_) {}
  // A condition on `lock`, which must outlive it.
  explicit Condition(Lock& lock) noexcept : lock_(lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // The lock's acquire(), release(), locked() (see lock.hpp).
  Lock::AcquireAwaiter acquire() noexcept { return lock_.acquire(); }
  detail::ScopedAcquire<Condition> scoped() noexcept { return detail::ScopedAcquire<Condition>(*this); }
  void release() { lock_.release(); }
  bool locked() const noexcept { return lock_.locked(); }

  // `co_await cond.wait()`: releases the lock, suspends until notified, and
  // takes the lock again (suspending while another task holds it). Throws
  // RuntimeError if the lock is not locked; CancelledError if the task was
  // cancelled — the lock is held again then too.
  Task<void> wait();

  // `co_await cond.wait_for(predicate)`: wait() until predicate() is true
  // and return its last result (without waiting if it is true at once).
  // Throws what wait() or the predicate throws.
  template <class Predicate>
    requires std::invocable<Predicate&>
  Task<std::decay_t<std::invoke_result_t<Predicate&>>> wait_for(Predicate predicate) {
    auto result = predicate();
    while (!result) {
      co_await wait();
      result = predicate();
    }
    co_return result;
  }

  // Wakes up to n waiters (they return from wait() once they hold the lock
  // again). Never suspends. Throws RuntimeError if the lock is not locked.
  void notify(std::size_t n = 1);
  // Wakes every waiter. Throws RuntimeError if the lock is not locked.
  void notify_all() { notify(waiters_.size()); }

 private:
  void wake(std::size_t n) noexcept;

  Lock own_lock_;
  Lock& lock_;
  detail::WaitList waiters_;
};

}  // namespace weft::aio
