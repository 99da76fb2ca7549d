// weft/aio/semaphore.hpp — aio::Semaphore and aio::BoundedSemaphore,
// Python's asyncio.Semaphore and asyncio.BoundedSemaphore.
//
//   aio::Semaphore slots(3);
//   co_await slots.acquire();             // suspends while the counter is 0
//   ...
//   slots.release();
// or, as Python's `async with slots:`,
//   auto held = co_await slots.scoped();  // released when `held` goes away
//
// A counter that acquire() decrements, suspending while it is zero, and
// release() increments. BoundedSemaphore also refuses to be released above
// its initial value (ValueError), which catches releasing more often than
// acquiring.
//
// Fairness and cancellation follow Python 3.12+ (the fixes of gh-90155):
// tasks acquire in the order they began to wait, and acquire() only jumps
// straight in while nobody waits and no woken waiter is still on its way
// (locked() is true meanwhile). release() hands its unit to the longest
// waiter. A waiter cancelled while it waits leaves the line; one woken and
// then cancelled before it ran throws CancelledError and gives its unit back
// to the next waiter, so no wake-up is ever lost.
//
// An uncontended acquire()/release() neither suspends nor touches the loop;
// waiting allocates nothing.
//
// Not thread-safe: use a semaphore from the tasks of one loop only
// (weft::Semaphore is the thread-safe one). Not copyable or movable;
// destroying one that tasks wait on is undefined behaviour.
#pragma once

#include <coroutine>
#include <cstddef>
#include <limits>

#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/held.hpp"

namespace weft::aio {

class Semaphore {
 public:
  class AcquireAwaiter;

  // Throws ValueError if value is negative.
  explicit Semaphore(long long value = 1) : Semaphore(value, kUnbounded) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // `co_await sem.acquire()`: decrements the counter, suspending the task
  // until it is its turn. Throws CancelledError if the task is cancelled
  // meanwhile (nothing is taken then). Must be awaited in a task of a
  // running loop when it has to wait.
  AcquireAwaiter acquire() noexcept;
  // `auto held = co_await sem.scoped()`: acquire(), then a guard that
  // releases when destroyed (see held.hpp).
  detail::ScopedAcquire<Semaphore> scoped() noexcept;
  // Increments the counter and wakes the longest waiter. Never suspends.
  // Throws ValueError if a BoundedSemaphore would exceed its initial value.
  void release() {
    if (value_ >= bound_) [[unlikely]]
      throw_over_release();
    ++value_;
    wake_next();
  }
  // Whether acquire() would suspend: the counter is zero, or other tasks
  // wait (or were woken and have not run yet) and go first.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty() || woken_ != 0; }

 protected:
  static constexpr long long kUnbounded = std::numeric_limits<long long>::max();
  Semaphore(long long value, long long bound);

 private:
  // Wakes the longest waiter, reserving a unit for it.
  bool wake_next() noexcept {
    if (!waiters_.notify_one()) return false;
    --value_;
    ++woken_;
    return true;
  }
  // A waiter's acquire() ends (Python's except/finally clauses): a woken
  // waiter that does not take its unit gives it back, and as many waiters
  // as there are units are woken.
  void end_wait(bool woken, bool acquired) noexcept {
    if (woken) {
      --woken_;
      if (!acquired) ++value_;
    }
    while (value_ > 0 && wake_next()) {
    }
  }
  [[noreturn]] void throw_over_release() const;

  detail::WaitList waiters_;
  long long value_;
  long long bound_;
  std::size_t woken_ = 0;  // waiters woken with a unit that have not run yet
};

class Semaphore::AcquireAwaiter : private detail::WaitList::Waiter {
 public:
  explicit AcquireAwaiter(Semaphore& semaphore) noexcept : Waiter(semaphore.waiters_), semaphore_(semaphore) {}
  AcquireAwaiter(const AcquireAwaiter&) = delete;
  // A waiter woken but never resumed (its frame destroyed) gives back the
  // unit it was woken with.
  ~AcquireAwaiter() {
    if (waiting_ && woken()) semaphore_.end_wait(true, false);
  }

  bool await_ready() noexcept {
    if (semaphore_.locked()) return false;
    --semaphore_.value_;
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
      semaphore_.end_wait(woken(), false);
      throw;
    }
    semaphore_.end_wait(true, true);
  }

 private:
  Semaphore& semaphore_;
  bool waiting_ = false;  // suspended, and the outcome not settled yet
};

inline Semaphore::AcquireAwaiter Semaphore::acquire() noexcept { return AcquireAwaiter(*this); }
inline detail::ScopedAcquire<Semaphore> Semaphore::scoped() noexcept { return detail::ScopedAcquire<Semaphore>(*this); }

class BoundedSemaphore : public Semaphore {
 public:
  // Throws ValueError if value is negative.
  explicit BoundedSemaphore(long long value = 1) : Semaphore(value, value) {}
};

}  // namespace weft::aio
