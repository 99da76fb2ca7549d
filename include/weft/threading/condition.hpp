// weft/threading/condition.hpp — weft::Condition, Python's
// threading.Condition.
//
// A condition variable bound to a lock: by default one it owns (an RLock,
// as in Python), or a Lock or RLock you pass in. wait() must be called with
// the lock held: it releases the lock completely (every RLock level), blocks
// until notified or timed out, then re-acquires it as it was. notify(n)
// wakes the n threads that have waited longest (FIFO), notify_all() every
// one. The caller re-checks its predicate after waking, or uses wait_for(),
// which does it for it.
//
// Errors: wait and notify throw RuntimeError when the calling thread does
// not hold the lock (for a plain Lock, when nobody holds it — the same test
// Python makes). A plain Lock has no owner, so a thread may wait or notify
// while another holds it; wait() then releases that thread's hold, as in
// Python, and the queue of waiters stays consistent all the same. A
// negative timeout counts as 0, as in Python: wait releases the lock, takes
// it again and returns whether it was notified.
//
// Thread-safety: all members may be called from any thread, wait and notify
// with the lock held. Not copyable or movable.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/wait_for_predicate.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/threading/lock.hpp"

namespace weft {

class Condition {
 public:
  // Owns a fresh RLock.
  Condition() : owned_(std::in_place), rlock_(&*owned_) {}
  explicit Condition(Lock& lock) noexcept : lock_(&lock) {}
  explicit Condition(RLock& lock) noexcept : rlock_(&lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // The underlying lock's acquire/release, so `std::unique_lock lk(cond);`
  // and `std::lock_guard g(cond);` work as Python's `with cond:` does.
  bool acquire(bool blocking = true) { return lock_ ? lock_->acquire(blocking) : rlock_->acquire(blocking); }
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return lock_ ? lock_->acquire(timeout) : rlock_->acquire(timeout);
  }
  void release() { lock_ ? lock_->release() : rlock_->release(); }
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

  // Blocks until notified. Spurious wake-ups do not happen: wait() returns
  // only after a notify (but the predicate may have changed again since).
  void wait() { wait_until(std::nullopt); }

  // Blocks until notified or `timeout` passes; returns false on timeout.
  // A negative timeout counts as 0; a NaN one throws ValueError.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after_clamped(timeout));
  }

  // Waits until pred() is truthy and returns its value. With a timeout,
  // returns pred()'s last value when time runs out (Python's wait_for).
  template <class Predicate>
  auto wait_for(Predicate pred) -> decltype(pred()) {
    return detail::wait_for_predicate(pred, std::nullopt, [this](const auto& d) { wait_until(d); });
  }
  template <class Predicate, class Rep, class Period>
  auto wait_for(Predicate pred, std::chrono::duration<Rep, Period> timeout) -> decltype(pred()) {
    return detail::wait_for_predicate(pred, detail::deadline_after_clamped(timeout),
                                [this](const auto& d) { wait_until(d); });
  }

  // Wakes up to n waiters (FIFO). Throws RuntimeError if the lock is not
  // held.
  void notify(std::size_t n = 1) {
    require_owned("cannot notify on un-acquired lock");
    with_queue([&] { waiters_.notify(n); });
  }
  void notify_all() {
    require_owned("cannot notify on un-acquired lock");
    with_queue([&] { waiters_.notify_all(); });
  }

 private:
  bool owned() const noexcept { return lock_ ? lock_->locked() : rlock_->is_owned(); }
  void require_owned(const char* what) const {
    if (!owned()) throw RuntimeError(what);
  }
  bool wait_until(const detail::Deadline& deadline);
  // Runs f on the wait queue: for a plain Lock, which has no owner and so
  // may be held by another thread than the caller, under queue_guard_ too.
  template <class F>
  void with_queue(F f) {
    if (lock_ == nullptr) return f();
    std::lock_guard guard(queue_guard_);
    f();
  }

  std::optional<RLock> owned_;
  Lock* lock_ = nullptr;
  RLock* rlock_ = nullptr;
  detail::FutexMutex queue_guard_;
  detail::WaitQueue waiters_;
};

}  // namespace weft
