// weft/aio/barrier.hpp — aio::Barrier, Python's asyncio.Barrier: a fixed
// number of tasks meet before any goes on.
//
//   aio::Barrier barrier(3);
//   std::size_t index = co_await barrier.wait();  // suspends until 3 tasks wait
//
// wait() suspends until `parties` tasks are waiting, then releases them all
// together; each gets a distinct arrival index in [0, parties). The barrier
// then drains — tasks arriving meanwhile wait until every released task has
// left — and fills again for the next round.
//
// abort() breaks the barrier: every waiting task, and every later wait(),
// throws BrokenBarrierError until reset(). reset() returns it to its first
// state; tasks waiting at that moment throw BrokenBarrierError. A waiter
// that is cancelled leaves the barrier without breaking it (Python's rule;
// threading.Barrier's timeouts, by contrast, break it).
//
// wait() is a coroutine (Task), as in Python: awaiting it allocates its
// frame. abort() and reset() never suspend (Python's are coroutines only to
// take the barrier's condition lock, which weft's barrier does not need).
//
// Not thread-safe: use a barrier from the tasks of one loop only
// (weft::Barrier is the thread-safe one). Not copyable or movable;
// destroying one that tasks wait on is undefined behaviour.
#pragma once

#include <cstddef>

#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/task.hpp"
#include "weft/errors.hpp"

namespace weft::aio {

// wait() on a barrier that is broken, or that was aborted or reset while
// the task waited. asyncio.BrokenBarrierError.
class BrokenBarrierError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

class Barrier {
 public:
  // Throws ValueError if parties is zero.
  explicit Barrier(std::size_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  // `std::size_t index = co_await barrier.wait()`: suspends until `parties`
  // tasks wait (first while a previous round drains), then returns this
  // task's arrival index. Throws BrokenBarrierError (see above), or
  // CancelledError if the task is cancelled meanwhile.
  Task<std::size_t> wait();
  // Breaks the barrier. Never suspends.
  void abort() noexcept;
  // Makes the barrier usable again. Never suspends.
  void reset() noexcept;

  std::size_t parties() const noexcept { return parties_; }
  // The tasks waiting for this round to fill (0 while it drains).
  std::size_t n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }

 private:
  enum class State { filling, draining, resetting, broken };

  void leave() noexcept;
  void wake_all() noexcept;

  const std::size_t parties_;
  State state_ = State::filling;
  std::size_t count_ = 0;      // tasks inside wait() past the entry check
  detail::WaitList arriving_;  // held back while a round drains or resets
  detail::WaitList filling_;   // waiting for this round to fill
};

}  // namespace weft::aio
