// weft/mp/lock.hpp — weft::mp::Lock and weft::mp::RLock, Python's
// multiprocessing.Lock and multiprocessing.RLock: locks shared by a process
// and its children.
//
// Lock is non-recursive; RLock may be re-acquired by the thread that holds
// it and must be released as many times. Both have weft::Lock's and
// weft::RLock's members (acquire(blocking) / acquire(timeout), release,
// locked, the Lockable and TimedLockable spellings for std::lock_guard,
// std::unique_lock and std::scoped_lock) and live in shared memory: a
// handle is cheap to copy and every copy — in this process, in a forked
// child, or in a spawned child that received it as an argument — is the
// same lock. An uncontended acquire/release makes no system call; a
// waiter sleeps on a futex. Timed waits use the monotonic clock; a negative
// timeout counts as 0 (Python's SemLock rule).
//
// Robustness. The locks are robust: if the thread holding one dies (its
// process is SIGKILLed or crashes, or the thread exits), the next acquirer
// gets the lock instead of waiting forever. acquire() then returns true as
// usual, so RAII guards work unchanged and never leak the lock, and:
//   * owner_died() is true for the new holder until it releases the lock
//     (for an RLock, its last level);
//   * acquire_status() returns Acquired::owner_died instead of yes;
//   * one line on stderr names the dead owner's process and thread ids.
// What the lock guarded may be half-updated: a holder that sees
// owner_died() should check or repair that state (or discard it) before
// relying on it, then release the lock normally; the lock itself is fully
// usable again.
//
// Ownership. Robustness needs an owner, so unlike Python's
// multiprocessing.Lock (a semaphore that any process may release), only the
// thread that acquired a Lock may release it: release() by another thread
// throws RuntimeError, and releasing a Lock nobody holds throws ValueError
// (Python's message, "semaphore or lock released too many times"). An
// RLock released by a thread that does not hold it throws RuntimeError.
// Re-acquiring a Lock one already holds waits forever (or until the
// timeout), as in Python.
//
// Sending a lock to a child started with spawn or forkserver goes through
// weft::codec while the child is being started (weft/mp/detail/
// fd_sharing.hpp); anywhere else encoding it throws codec::EncodeError, as
// Python refuses to pickle a lock outside inheritance.
//
// Thread- and process-safety: every member may be called concurrently from
// any thread of any process that has the lock.
#pragma once

#include <chrono>
#include <cstdint>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/lock_state.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/detail/shared_state.hpp"

namespace weft::mp {

// What an acquisition found.
enum class Acquired : int {
  no,          // not acquired: non-blocking and taken, or timed out
  yes,         // acquired
  owner_died,  // acquired from an owner that died holding it
};

class Condition;

template <bool Recursive>
class BasicLock {
 public:
  // A new lock, free. Throws std::system_error if shared memory cannot be
  // had.
  BasicLock() : state_(State::make(kind, Recursive ? "RLock" : "Lock", 1)) {}

  // Blocking: waits until the lock is free (an RLock held by the caller is
  // re-entered at once) and returns true. Non-blocking: returns at once,
  // true if it was acquired. Throws RuntimeError if an RLock's recursion
  // level would overflow.
  bool acquire(bool blocking = true) { return acquire_status(blocking) != Acquired::no; }
  // Waits at most `timeout`; returns false if the lock stayed taken. A
  // negative timeout counts as 0, as multiprocessing's does (a
  // threading.Lock refuses one).
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_status(timeout) != Acquired::no;
  }

  // The same, telling a normal acquisition from a recovery.
  Acquired acquire_status(bool blocking = true) {
    return detail::lock_acquire(*state_, Recursive, blocking, std::nullopt);
  }
  template <class Rep, class Period>
  Acquired acquire_status(std::chrono::duration<Rep, Period> timeout) {
    return acquire_until(weft::detail::deadline_after_clamped(timeout));
  }

  // Releases the lock (one level of an RLock). Throws as described above.
  void release() { detail::lock_release(*state_, Recursive); }

  // Whether some thread of some process holds the lock (a snapshot).
  bool locked() const noexcept { return state_->owner_tid.load(std::memory_order_relaxed) != 0; }
  // Whether the calling thread holds it.
  bool is_owned() const noexcept { return detail::lock_is_owned(*state_); }
  // Whether the caller holds the lock because its previous owner died
  // holding it; false once released.
  bool owner_died() const noexcept { return is_owned() && state_->owner_died; }

  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(timeout);
  }
  template <class C, class D>
  bool try_lock_until(std::chrono::time_point<C, D> when) {
    return acquire_until(weft::detail::deadline_at(when)) != Acquired::no;
  }

  // For weft::codec: the token under which a child being started finds this
  // lock (throws codec::EncodeError outside a start), and the lock behind a
  // token in that child (throws codec::DecodeError).
  std::uint32_t share_with_child() const {
    return state_.share_with_child(Recursive ? "RLock" : "Lock");
  }
  static BasicLock from_parent(std::uint32_t token) {
    return BasicLock(State::from_parent(token, kind));
  }

 private:
  friend class Condition;
  using State = detail::SharedState<detail::LockState>;
  static constexpr detail::StateKind kind =
      Recursive ? detail::StateKind::rlock : detail::StateKind::lock;

  explicit BasicLock(State state) noexcept : state_(std::move(state)) {}

  Acquired acquire_until(const weft::detail::Deadline& deadline) {
    return detail::lock_acquire(*state_, Recursive, true, deadline);
  }

  State state_;
};

using Lock = BasicLock<false>;
using RLock = BasicLock<true>;

}  // namespace weft::mp

namespace weft::mp::detail {

// A Lock or RLock crosses to a child being started as its token (see
// shared_handle_codec.hpp).
template <bool Recursive>
struct SharedByToken<BasicLock<Recursive>> : std::true_type {};

}  // namespace weft::mp::detail
