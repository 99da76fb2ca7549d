// weft/threading/lock.hpp — weft::Lock and weft::RLock, Python's
// threading.Lock and threading.RLock.
//
// Lock is a non-recursive mutual-exclusion lock with no owner: any thread may
// release it, as in Python (so it also serves as a binary semaphore).
// RLock may be re-acquired by the thread that holds it and must be released
// as many times, by that thread only.
//
// Both satisfy the standard Lockable and TimedLockable requirements, so
// std::lock_guard, std::unique_lock, std::scoped_lock and std::lock work with
// them — the C++ spelling of Python's `with lock:`. Timed waits use the
// monotonic clock and are immune to wall-clock jumps.
//
// An uncontended acquire/release is one atomic instruction each; a waiter
// spins briefly, then sleeps on a futex. Both take part in deadlock
// detection (weft/threading/deadlock.hpp); give a lock a name to see it in
// reports.
//
// Thread-safety: all members may be called concurrently from any thread.
// Not process-shared (see weft::mp for that). Neither is copyable nor
// movable; destroying a lock that is held is undefined behaviour.
#pragma once

#include <chrono>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/lock_tracking.hpp"
#include "weft/errors.hpp"

namespace weft {

class Condition;

class Lock {
 public:
  constexpr Lock() noexcept = default;
  // `name` (a string that outlives the lock) appears in deadlock reports.
  explicit constexpr Lock(const char* name) noexcept { site_.name = name; }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;
  ~Lock() {
    if (site_.node.load(std::memory_order_relaxed) != 0) detail::track_destroyed(site_);
  }

  // Acquires the lock. Blocking: waits until it is free and returns true.
  // Non-blocking: returns at once, true if it was acquired.
  // Throws DeadlockError only in the deadlock detector's `raise` mode.
  bool acquire(bool blocking = true) {
    if (detail::lock_tracking_on()) [[unlikely]]
      return acquire_tracked(blocking, std::nullopt);
    if (mutex_.try_lock()) return true;
    if (!blocking) return false;
    mutex_.lock();
    return true;
  }

  // Waits at most `timeout`; returns false if the lock stayed taken.
  // Throws ValueError for a negative or NaN timeout (Python's rule).
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(detail::deadline_after(timeout));
  }

  // Releases the lock; any thread may. Throws RuntimeError if it is not held.
  void release() {
    if (site_.node.load(std::memory_order_relaxed) != 0) [[unlikely]]
      detail::track_released(site_);
    if (!mutex_.unlock()) [[unlikely]]
      throw RuntimeError("release unlocked lock");
  }

  // Whether some thread holds the lock (a snapshot).
  bool locked() const noexcept { return mutex_.locked(); }

  const char* name() const noexcept { return site_.name; }

  // Lockable / TimedLockable spelling. try_lock_for with a negative
  // duration tries once, as the standard library does.
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(detail::deadline_after_clamped(timeout));
  }
  template <class C, class D>
  bool try_lock_until(std::chrono::time_point<C, D> when) {
    return acquire_until(detail::deadline_at(when));
  }

 private:
  friend class Condition;

  bool acquire_until(const detail::Deadline& deadline) {
    if (detail::lock_tracking_on()) [[unlikely]]
      return acquire_tracked(true, deadline);
    return mutex_.lock_until(deadline);
  }
  bool acquire_tracked(bool blocking, const detail::Deadline& deadline);
  // Condition::wait's re-acquisition: the lock order was checked when the
  // lock was first taken, and a wait must never end in an exception.
  void reacquire() noexcept;

  detail::FutexMutex mutex_;
  detail::LockSite site_;
};

class RLock {
 public:
  constexpr RLock() noexcept = default;
  explicit constexpr RLock(const char* name) noexcept { site_.name = name; }
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;
  ~RLock() {
    if (site_.node.load(std::memory_order_relaxed) != 0) detail::track_destroyed(site_);
  }

  // Acquires the lock, or increments the recursion level if the calling
  // thread already holds it (which never blocks). Same blocking rules and
  // errors as Lock::acquire.
  bool acquire(bool blocking = true) {
    if (owned_by_me()) return reenter();
    const bool got = detail::lock_tracking_on() ? acquire_tracked(blocking, std::nullopt)
                     : mutex_.try_lock()        ? true
                     : blocking                 ? (mutex_.lock(), true)
                                                : false;
    if (got) take_ownership(1);
    return got;
  }

  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(detail::deadline_after(timeout));
  }

  // Decrements the recursion level; the lock is free when it reaches zero.
  // Throws RuntimeError if the calling thread does not hold the lock.
  void release() {
    if (!owned_by_me()) throw RuntimeError("cannot release un-acquired lock");
    if (--count_ == 0) release_fully();
  }

  // Whether some thread holds the lock (a snapshot).
  bool locked() const noexcept { return mutex_.locked(); }
  // Whether the calling thread holds it (Python's private _is_owned()).
  bool is_owned() const noexcept { return owned_by_me(); }

  const char* name() const noexcept { return site_.name; }

  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(detail::deadline_after_clamped(timeout));
  }
  template <class C, class D>
  bool try_lock_until(std::chrono::time_point<C, D> when) {
    return acquire_until(detail::deadline_at(when));
  }

 private:
  friend class Condition;

  bool owned_by_me() const noexcept {
    return owner_.load(std::memory_order_relaxed) == detail::this_thread_token();
  }
  bool reenter() {
    if (count_ == UINT32_MAX) throw RuntimeError("RLock recursion limit exceeded");
    ++count_;
    return true;
  }
  void take_ownership(std::uint32_t count) noexcept {
    owner_.store(detail::this_thread_token(), std::memory_order_relaxed);
    count_ = count;
  }
  // Gives up every level at once; returns how many there were.
  std::uint32_t release_fully() noexcept {
    const std::uint32_t levels = count_;
    count_ = 0;
    owner_.store(0, std::memory_order_relaxed);
    if (site_.node.load(std::memory_order_relaxed) != 0) detail::track_released(site_);
    mutex_.unlock();
    return levels;
  }
  bool acquire_until(const detail::Deadline& deadline) {
    if (owned_by_me()) return reenter();
    const bool got = detail::lock_tracking_on() ? acquire_tracked(true, deadline)
                                                : mutex_.lock_until(deadline);
    if (got) take_ownership(1);
    return got;
  }
  bool acquire_tracked(bool blocking, const detail::Deadline& deadline);
  void reacquire(std::uint32_t levels) noexcept;

  detail::FutexMutex mutex_;
  std::atomic<std::uintptr_t> owner_{0};
  std::uint32_t count_ = 0;
  detail::LockSite site_;
};

}  // namespace weft
