// weft/aio/lock.hpp — aio::Lock, Python's asyncio.Lock: mutual exclusion
// between the tasks of one event loop.
//
//   co_await lock.acquire();            // suspends while another task holds it
//   ...
//   lock.release();
// or, as Python's `async with lock:`,
//   auto held = co_await lock.scoped(); // released when `held` goes away
//
// The lock has no owner: any task may release it. It is fair as Python's
// is: tasks get it in the order they began to wait. release() wakes the
// longest waiter, and until that task has run and taken the lock, nobody
// else can take it (acquire() only jumps straight in when nobody waits),
// although locked() reports false meanwhile, as in Python. A waiter
// cancelled while it waits leaves the line; one woken and then cancelled
// before it ran throws CancelledError without taking the lock and passes
// the wake-up on to the next waiter, so no wake-up is ever lost.
//
// An uncontended acquire()/release() neither suspends nor touches the loop;
// waiting allocates nothing.
//
// Not thread-safe: use a lock from the tasks of one loop only (weft::Lock is
// the thread-safe one). Not copyable or movable; destroying a lock that
// tasks wait on is undefined behaviour.
#pragma once

#include <coroutine>

#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/held.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

class Lock {
 public:
  class AcquireAwaiter;

  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  // `co_await lock.acquire()`: takes the lock, suspending the task until it
  // is its turn. Throws CancelledError if the task is cancelled meanwhile
  // (it does not hold the lock then). Must be awaited in a task of a
  // running loop when it has to wait.
  AcquireAwaiter acquire() noexcept;
  // `auto held = co_await lock.scoped()`: acquire(), then a guard that
  // releases the lock when destroyed (see held.hpp).
  detail::ScopedAcquire<Lock> scoped() noexcept;
  // Frees the lock and wakes the longest waiter. Never suspends. Throws
  // RuntimeError if the lock is not locked.
  void release() {
    if (!locked_) throw RuntimeError("Lock is not acquired.");
    locked_ = false;
    wake_first();
  }
  // Whether a task holds the lock.
  bool locked() const noexcept { return locked_; }

 private:
  // Wakes the longest waiter to take the lock.
  void wake_first() noexcept {
    if (waiters_.notify_one()) waking_ = true;
  }
  // The woken waiter will not take the lock after all.
  void pass_on() noexcept {
    waking_ = false;
    if (!locked_) wake_first();
  }

  detail::WaitList waiters_;
  bool locked_ = false;
  bool waking_ = false;  // a waiter was woken to take the lock and has not run yet
};

class Lock::AcquireAwaiter : private detail::WaitList::Waiter {
 public:
  explicit AcquireAwaiter(Lock& lock) noexcept : Waiter(lock.waiters_), lock_(lock) {}
  AcquireAwaiter(const AcquireAwaiter&) = delete;
  // A waiter woken but never resumed (its frame destroyed) passes the
  // wake-up on.
  ~AcquireAwaiter() {
    if (waiting_ && woken()) lock_.pass_on();
  }

  bool await_ready() noexcept {
    if (lock_.locked_ || lock_.waking_ || !lock_.waiters_.empty()) return false;
    lock_.locked_ = true;
    return true;
  }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    waiting_ = true;
    Waiter::await_suspend(awaiting);
  }
  void await_resume() {
    if (!waiting_) return;
    waiting_ = false;
    try {
      Waiter::await_resume();
    } catch (...) {
      if (woken()) lock_.pass_on();
      throw;
    }
    lock_.waking_ = false;
    lock_.locked_ = true;
  }

 private:
  Lock& lock_;
  bool waiting_ = false;  // suspended, and the outcome not settled yet
};

inline Lock::AcquireAwaiter Lock::acquire() noexcept { return AcquireAwaiter(*this); }
inline detail::ScopedAcquire<Lock> Lock::scoped() noexcept { return detail::ScopedAcquire<Lock>(*this); }

}  // namespace weft::aio
