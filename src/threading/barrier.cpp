// weft::Barrier: CPython's Barrier state machine (filling, draining,
// resetting, broken) on a futex mutex and a FIFO wait queue.
#include "weft/threading/barrier.hpp"

#include <mutex>

namespace weft {

Barrier::Barrier(std::size_t parties, Action action, std::optional<std::chrono::nanoseconds> timeout)
    : parties_(parties), action_(std::move(action)), timeout_(timeout) {
  if (parties == 0) throw ValueError("parties must be >= 1");
}

std::size_t Barrier::wait() {
  return wait_until(timeout_ ? detail::deadline_after_clamped(*timeout_) : std::nullopt);
}

std::size_t Barrier::wait_until(const detail::Deadline& deadline) {
  std::unique_lock held(mutex_);
  enter();
  const std::size_t index = count_++;
  struct Leave {
    Barrier& barrier;
    ~Leave() {
      --barrier.count_;
      barrier.exit_one();
    }
  } leave{*this};
  if (index + 1 == parties_) {
    release_all();
  } else {
    wait_released(deadline);
  }
  return index;
}

void Barrier::abort() {
  std::unique_lock held(mutex_);
  break_barrier();
}

void Barrier::reset() {
  std::unique_lock held(mutex_);
  if (count_ > 0) {
    if (state_ == State::filling || state_ == State::broken) state_ = State::resetting;
  } else {
    state_ = State::filling;
  }
  changed_.notify_all();
}

std::size_t Barrier::n_waiting() const noexcept {
  return state_ == State::filling ? count_.load() : 0;
}

bool Barrier::broken() const noexcept { return state_ == State::broken; }

// Waits out a previous round that is still draining or resetting.
void Barrier::enter() {
  while (state_ == State::draining || state_ == State::resetting) cond_wait(std::nullopt);
  if (state_ == State::broken) throw BrokenBarrierError();
}

// The last arrival runs the action and lets everyone go.
void Barrier::release_all() {
  try {
    if (action_) action_();
    state_ = State::draining;
    changed_.notify_all();
  } catch (...) {
    break_barrier();
    throw;
  }
}

void Barrier::wait_released(const detail::Deadline& deadline) {
  while (state_ == State::filling) {
    if (!cond_wait(deadline) && state_ == State::filling) {
      break_barrier();
      throw BrokenBarrierError();
    }
  }
  if (state_ != State::draining) throw BrokenBarrierError();
}

// The last thread to leave a draining or resetting round re-opens it.
void Barrier::exit_one() {
  if (count_ == 0 && (state_ == State::resetting || state_ == State::draining)) {
    state_ = State::filling;
    changed_.notify_all();
  }
}

void Barrier::break_barrier() {
  state_ = State::broken;
  changed_.notify_all();
}

bool Barrier::cond_wait(const detail::Deadline& deadline) {
  return changed_.wait(deadline, [this] { mutex_.unlock(); }, [this] { mutex_.lock(); });
}

}  // namespace weft
