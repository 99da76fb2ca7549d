// weft/mp/condition.hpp — weft::mp::Condition, Python's
// multiprocessing.Condition: a condition variable shared by a process and
// its children, bound to a process-shared lock.
//
// By default it makes its own RLock, as Python does; or pass a Lock or an
// RLock (a copy of the handle: the same lock). The members are
// weft::Condition's: acquire/release and the Lockable spelling (so
// std::unique_lock works as Python's `with cond:`), wait() / wait(timeout),
// wait_for(pred) / wait_for(pred, timeout), notify(n), notify_all(). wait()
// must be called with the lock held: it releases it completely (every
// level of an RLock), blocks until notified or timed out, then re-acquires
// it with as many levels. notify(n) wakes up to n of the processes' threads
// that were waiting when it was called; which ones is not specified (not
// FIFO). Callers re-check their predicate after waking, or use wait_for().
//
// Robustness: the lock is robust (see weft/mp/lock.hpp). If its holder
// dies, the next acquire — including wait()'s re-acquisition — succeeds,
// writes the dead owner's ids to stderr, and owner_died() is true until the
// lock is released: the guarded state may be half-updated. A process that
// dies while waiting takes no notification with it: notify(n) still wakes
// up to n of the waiters alive, and never one that began waiting after it.
// A waiter notified while it cannot run (stopped, or not scheduled) keeps
// its notification, however many notify calls come before it runs. The
// notifications of dead waiters stay behind, kept apart by notify call;
// only when those of more than 32 notify calls, each more than 32 calls
// old, are left at once do the two oldest merge: then a waiter that began
// between those two calls and has waited through 64 notify calls or more
// may be woken by the earlier one (a wake-up too many for it), and the
// waiter that notification was for, if alive, by the next notify instead.
//
// Errors: wait and notify throw RuntimeError when the calling thread does
// not hold the lock. A negative timeout counts as 0, as in Python.
//
// Thread- and process-safety: every member may be called from any thread of
// any process that has the condition, wait and notify with the lock held.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <tuple>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/wait_for_predicate.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/lock.hpp"

namespace weft::mp {

namespace detail {

// How many notify calls back a waiter can still take a token of (see
// src/mp/condition.cpp); a power of two.
inline constexpr std::uint32_t kConditionGenerations = 32;

struct ConditionState {
  std::uint32_t sleepers = 0;              // waiters not yet notified; guarded by the lock
  std::atomic<std::uint32_t> issued{0};    // counts notify calls; the futex word
  // Per notify call, in a ring: its number (high half) and its notifications
  // not yet taken (low half).
  std::atomic<std::uint64_t> tokens[kConditionGenerations] = {};
  // The notifications left in ring slots that were reused, as the ring's,
  // in no order; bit i of older_in_use is set once older_tokens[i] is used.
  std::atomic<std::uint64_t> older_tokens[kConditionGenerations] = {};
  std::atomic<std::uint32_t> older_in_use{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

}  // namespace detail

class Condition {
 public:
  // With a fresh RLock. Throws std::system_error if shared memory cannot be
  // had.
  Condition() : Condition(RLock()) {}
  explicit Condition(const Lock& lock) : Condition(lock.state_, false) {}
  explicit Condition(const RLock& lock) : Condition(lock.state_, true) {}

  // The lock's acquire/release (see weft/mp/lock.hpp).
  bool acquire(bool blocking = true) { return acquire_status(blocking) != Acquired::no; }
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    return acquire_status(timeout) != Acquired::no;
  }
  Acquired acquire_status(bool blocking = true) {
    return detail::lock_acquire(*lock_, recursive_, blocking, std::nullopt);
  }
  template <class Rep, class Period>
  Acquired acquire_status(std::chrono::duration<Rep, Period> timeout) {
    return detail::lock_acquire(*lock_, recursive_, true, weft::detail::deadline_after_clamped(timeout));
  }
  void release() { detail::lock_release(*lock_, recursive_); }
  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }
  // Whether the caller holds the lock because its previous owner died.
  bool owner_died() const noexcept { return detail::lock_is_owned(*lock_) && lock_->owner_died; }

  // Blocks until notified. Returns only after a notify (though the
  // predicate may have changed again since).
  void wait() { wait_until(std::nullopt); }
  // Blocks until notified or `timeout` passes; returns false on timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(weft::detail::deadline_after_clamped(timeout));
  }

  // Waits until pred() is truthy and returns its value. With a timeout,
  // returns pred()'s last value when time runs out (Python's wait_for).
  template <class Predicate>
  auto wait_for(Predicate pred) -> decltype(pred()) {
    return weft::detail::wait_for_predicate(pred, std::nullopt,
                                            [this](const auto& d) { wait_until(d); });
  }
  template <class Predicate, class Rep, class Period>
  auto wait_for(Predicate pred, std::chrono::duration<Rep, Period> timeout) -> decltype(pred()) {
    return weft::detail::wait_for_predicate(pred, weft::detail::deadline_after_clamped(timeout),
                                [this](const auto& d) { wait_until(d); });
  }

  // Wakes up to n waiters. Never blocks. Throws RuntimeError if the caller
  // does not hold the lock.
  void notify(std::size_t n = 1);
  void notify_all();

  // For weft::codec: what a child being started needs to find this
  // condition — whether its lock is an RLock, the lock's token and the
  // condition's (throws codec::EncodeError outside a start) — and the
  // condition behind them in that child (throws codec::DecodeError).
  using Token = std::tuple<bool, std::uint32_t, std::uint32_t>;
  Token share_with_child() const;
  static Condition from_parent(const Token& token);

 private:
  using LockHandle = detail::SharedState<detail::LockState>;
  using State = detail::SharedState<detail::ConditionState>;

  Condition(LockHandle lock, bool recursive)
      : Condition(std::move(lock), recursive,
                  State::make(detail::StateKind::condition, "Condition", 1)) {}
  Condition(LockHandle lock, bool recursive, State state) noexcept
      : lock_(std::move(lock)), recursive_(recursive), state_(std::move(state)) {}

  void require_owned(const char* what) const;
  bool wait_until(const weft::detail::Deadline& deadline);

  LockHandle lock_;
  bool recursive_;
  State state_;
};

}  // namespace weft::mp

namespace weft::mp::detail {

// A Condition crosses to a child being started as its token (see
// shared_handle_codec.hpp).
template <>
struct SharedByToken<Condition> : std::true_type {};

}  // namespace weft::mp::detail
