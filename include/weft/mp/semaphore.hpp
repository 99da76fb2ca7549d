// weft/mp/semaphore.hpp — weft::mp::Semaphore and BoundedSemaphore, Python's
// multiprocessing.Semaphore and multiprocessing.BoundedSemaphore: counting
// semaphores shared by a process and its children.
//
// The members are weft::Semaphore's (acquire(blocking) / acquire(timeout),
// release(n), try_acquire, try_acquire_for, value) plus Python's
// get_value(). A BoundedSemaphore refuses to be released above its initial
// value (ValueError). A handle is cheap to copy and every copy — here, in a
// forked child, or in a spawned child that received it as an argument — is
// the same semaphore. An uncontended acquire or release makes no system
// call; a waiter sleeps on a futex. Timed waits use the monotonic clock; a
// negative timeout counts as 0 (Python's SemLock rule).
//
// Not robust, as in Python: a semaphore has no owner, so a process that
// dies after acquiring never gives its unit back. (Use a Lock when a dead
// holder must be detected.) A process that dies while waiting costs
// nothing but a spare wake-up.
//
// Thread- and process-safety: every member may be called concurrently from
// any thread of any process that has the semaphore.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <type_traits>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/detail/shared_state.hpp"

namespace weft::mp {

namespace detail {

struct SemaphoreState {
  explicit SemaphoreState(std::uint32_t initial, std::uint32_t limit) noexcept
      : value(initial), bound(limit) {}
  std::atomic<std::uint32_t> value;
  std::atomic<std::uint32_t> sleepers{0};
  const std::uint32_t bound;
};

bool semaphore_try_acquire(SemaphoreState& state) noexcept;
bool semaphore_acquire(SemaphoreState& state, const weft::detail::Deadline& deadline) noexcept;

}  // namespace detail

class Semaphore {
 public:
  // The largest value a semaphore may hold (SEM_VALUE_MAX).
  static constexpr std::uint32_t kMaxValue = 0x7fffffff;

  // Throws ValueError if value is negative or larger than kMaxValue,
  // std::system_error if shared memory cannot be had.
  explicit Semaphore(long long value = 1) : Semaphore(value, false) {}

  // Blocking: waits until the counter is positive, decrements it and
  // returns true. Non-blocking: returns false at once if it is zero.
  bool acquire(bool blocking = true) {
    return try_acquire() || (blocking && detail::semaphore_acquire(*state_, std::nullopt));
  }
  // Waits at most `timeout`; returns false if the counter stayed zero. A
  // negative timeout counts as 0.
  template <class Rep, class Period>
  bool acquire(std::chrono::duration<Rep, Period> timeout) {
    const auto deadline = weft::detail::deadline_after_clamped(timeout);
    return try_acquire() || detail::semaphore_acquire(*state_, deadline);
  }

  // Increments the counter by n, waking up to n waiters. Throws ValueError
  // if n is zero, or if the counter would exceed its bound (the initial
  // value of a BoundedSemaphore, else kMaxValue); nothing is released then.
  void release(std::uint32_t n = 1);

  bool try_acquire() noexcept { return detail::semaphore_try_acquire(*state_); }
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> timeout) {
    return acquire(timeout);
  }

  // The counter's current value (a snapshot). get_value() is Python's name.
  std::uint32_t value() const noexcept { return state_->value.load(std::memory_order_acquire); }
  std::uint32_t get_value() const noexcept { return value(); }

  // For weft::codec: the token under which a child being started finds this
  // semaphore (throws codec::EncodeError outside a start), and the
  // semaphore behind a token in that child (throws codec::DecodeError). A
  // BoundedSemaphore keeps its bound either way.
  std::uint32_t share_with_child() const { return state_.share_with_child("Semaphore"); }
  static Semaphore from_parent(std::uint32_t token) {
    return Semaphore(State::from_parent(token, detail::StateKind::semaphore));
  }

 protected:
  Semaphore(long long value, bool bounded);

 private:
  using State = detail::SharedState<detail::SemaphoreState>;
  explicit Semaphore(State state) noexcept : state_(std::move(state)) {}

  State state_;
};

class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(long long value = 1) : Semaphore(value, true) {}

  static BoundedSemaphore from_parent(std::uint32_t token) {
    return BoundedSemaphore(Semaphore::from_parent(token));
  }

 private:
  explicit BoundedSemaphore(Semaphore shared) noexcept : Semaphore(std::move(shared)) {}
};

}  // namespace weft::mp

namespace weft::mp::detail {

// A Semaphore or BoundedSemaphore crosses to a child being started as its
// token (see shared_handle_codec.hpp).
template <class S>
  requires std::is_base_of_v<Semaphore, S>
struct SharedByToken<S> : std::true_type {};

}  // namespace weft::mp::detail
