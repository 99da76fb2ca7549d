// aio::Barrier: Python's barrier state machine (filling, draining,
// resetting, broken) on two wait lists instead of a condition.
#include "weft/aio/barrier.hpp"

namespace weft::aio {

Barrier::Barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw ValueError("parties must be >= 1");
}

Task<std::size_t> Barrier::wait() {
  while (state_ == State::draining || state_ == State::resetting) co_await arriving_.wait();
  if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
  const std::size_t index = count_++;
  struct Leave {
    Barrier& barrier;
    ~Leave() { barrier.leave(); }
  } leave{*this};
  if (index + 1 == parties_) {
    state_ = State::draining;
    filling_.notify_all();
  } else {
    while (state_ == State::filling) co_await filling_.wait();
    if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError("Abort or reset of barrier");
  }
  co_return index;
}

// The last task to leave ends the draining (or resetting) and lets the
// tasks held back in.
void Barrier::leave() noexcept {
  if (--count_ != 0) return;
  if (state_ == State::draining || state_ == State::resetting) state_ = State::filling;
  arriving_.notify_all();
}

void Barrier::abort() noexcept {
  state_ = State::broken;
  wake_all();
}

void Barrier::reset() noexcept {
  state_ = count_ > 0 ? State::resetting : State::filling;
  wake_all();
}

void Barrier::wake_all() noexcept {
  filling_.notify_all();
  arriving_.notify_all();
}

}  // namespace weft::aio
