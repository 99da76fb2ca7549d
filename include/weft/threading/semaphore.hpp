// weft/threading/semaphore.hpp — weft::Semaphore and weft::BoundedSemaphore,
// Python's threading.Semaphore and threading.BoundedSemaphore.
//
// A counter that acquire() decrements, blocking while it is zero, and
// release(n) increments, waking up to n waiters. A BoundedSemaphore also
// refuses to be released above its initial value (a ValueError), which
// catches the bug of releasing more often than acquiring.
//
// An uncontended acquire or release is one atomic instruction; waiters spin
// briefly, then sleep on a futex. Timed waits use the monotonic clock.
//
// Thread-safety: all members may be called concurrently from any thread.
// Not process-shared (see weft::mp). Not copyable or movable.
#pragma once

#include <chrono>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/ticket_counter.hpp"
#include "weft/errors.hpp"

namespace weft {

class Semaphore {
 public:
  // Throws ValueError if value is negative or larger than 2^31 - 1.
  explicit Semaphore(long long value = 1) : counter_(checked_initial(value)) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Blocking: waits until the counter is positive, decrements it and
  // returns true. Non-blocking: returns false at once if it is zero.
  bool acquire(bool blocking = true) {
    return counter_.try_take() || (blocking && acquire_until(std::nullopt));
  }
  // Waits at most `timeout`; returns false if the counter stayed zero.
  // A negative timeout counts as 0 (Python's rule); a NaN one throws
  // ValueError when the call has to wait.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return counter_.try_take() || acquire_until(detail::deadline_after_clamped(timeout));
  }

  // Increments the counter by n, waking up to n waiters. Throws ValueError
  // if n is zero, or, for a BoundedSemaphore, if the counter would exceed
  // its initial value (nothing is released then).
  void release(std::uint32_t n = 1);

  // C++20 std::counting_semaphore spelling.
  bool try_acquire() noexcept { return counter_.try_take(); }
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(timeout);
  }

  // The counter's current value (a snapshot, for diagnostics).
  std::uint32_t value() const noexcept { return counter_.count(); }

 protected:
  Semaphore(long long value, bool bounded) : Semaphore(value) {
    if (bounded) bound_ = counter_.count();
  }

 private:
  static std::uint32_t checked_initial(long long value);
  bool acquire_until(const detail::Deadline& deadline) {
    return counter_.take(deadline) == detail::TicketCounter::Taken::yes;
  }

  detail::TicketCounter counter_;
  std::uint32_t bound_ = detail::TicketCounter::kMax;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(long long value = 1) : Semaphore(value, true) {}
};

}  // namespace weft
