// weft/threading/barrier.hpp — weft::Barrier, Python's threading.Barrier.
//
// A fixed number of threads (`parties`) meet at wait(); when the last one
// arrives, one of them runs the optional action, and all are released
// together, each returning a distinct index in [0, parties). The barrier
// then resets itself for the next round.
//
// It breaks — every current and future wait() throws BrokenBarrierError
// until reset() — when abort() is called, when a wait times out (that
// waiter and all others throw), or when the action throws (the action's
// exception propagates from that one wait(); the others get
// BrokenBarrierError). reset() wakes current waiters with
// BrokenBarrierError and makes the barrier usable again.
//
// Thread-safety: all members may be called concurrently from any thread.
// Not copyable or movable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/errors.hpp"

namespace weft {

class BrokenBarrierError : public RuntimeError {
 public:
  BrokenBarrierError() : RuntimeError("barrier is broken") {}
};

class Barrier {
 public:
  using Action = std::function<void()>;

  // Throws ValueError if parties is zero.
  explicit Barrier(std::size_t parties, Action action = {},
                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);
  // With a default timeout of any duration type; one too large for
  // nanoseconds means no timeout.
  template <class Rep, class Period>
  Barrier(std::size_t parties, Action action, std::chrono::duration<Rep, Period> timeout)
      : Barrier(parties, std::move(action),
                std::optional<std::chrono::nanoseconds>(detail::ceil_nanoseconds_saturated(timeout))) {}
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // Blocks until `parties` threads have called wait(), or until the default
  // timeout given at construction. Returns this thread's arrival index.
  std::size_t wait();
  // The same with an explicit timeout for this call. A negative timeout,
  // here or at construction, counts as 0: the barrier breaks unless this
  // call fills it, as in Python.
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(detail::deadline_after_clamped(timeout));
  }

  // Breaks the barrier: waiters and later callers get BrokenBarrierError.
  void abort();
  // Returns the barrier to its initial state; current waiters get
  // BrokenBarrierError.
  void reset();

  // These do not block and may be called from the action, which runs with
  // the barrier locked (Python's are lock-free properties too).
  std::size_t parties() const noexcept { return parties_; }
  // Threads currently waiting (0 while draining or broken).
  std::size_t n_waiting() const noexcept;
  bool broken() const noexcept;

 private:
  enum class State { filling, draining, resetting, broken };

  std::size_t wait_until(const detail::Deadline& deadline);
  void enter();
  void release_all();
  void wait_released(const detail::Deadline& deadline);
  void exit_one();
  void break_barrier();
  bool cond_wait(const detail::Deadline& deadline);

  const std::size_t parties_;
  const Action action_;
  const std::optional<std::chrono::nanoseconds> timeout_;
  mutable detail::FutexMutex mutex_;
  detail::WaitQueue changed_;
  // Written under mutex_; read without it by n_waiting() and broken().
  std::atomic<State> state_{State::filling};
  std::atomic<std::size_t> count_{0};
};

}  // namespace weft
