// asyncio.timeout: cancel the running task at the deadline, and turn that
// cancellation (and only that one) into TimeoutError on the way out.
#include "weft/aio/timeout.hpp"

namespace weft::aio {

void Timeout::enter() {
  if (state_ != State::created) throw RuntimeError("Timeout has already been entered");
  task_ = &detail::current_task_state();
  state_ = State::entered;
  cancelling_ = task_->cancelling();
  arm();
}

void Timeout::exit(bool cancelled) {
  disarm();
  if (state_ == State::expiring) {
    state_ = State::expired;
    if (task_->uncancel() <= cancelling_ && cancelled) throw TimeoutError("timed out");
  } else if (state_ == State::entered) {
    state_ = State::exited;
  }
}

void Timeout::reschedule(std::optional<Clock::time_point> when) {
  if (state_ == State::created) throw RuntimeError("Timeout has not been entered");
  if (state_ != State::entered) {
    throw RuntimeError(state_ == State::exited ? "Cannot reschedule after exit from the timeout context"
                                               : "Cannot reschedule an expired timeout");
  }
  when_ = when;
  disarm();
  arm();
}

void Timeout::arm() noexcept {
  // A deadline already passed fires in the loop's next turn, as Python's
  // call_soon does: until then the body may still move it.
  if (when_) task_->loop().io().start_timer(*this, *when_);
}

void Timeout::disarm() noexcept {
  if (scheduled()) task_->loop().io().cancel_timer(*this);
}

void Timeout::on_timer(io::Timer& timer) noexcept {
  auto& self = static_cast<Timeout&>(timer);
  self.state_ = State::expiring;
  self.task_->cancel();
}

}  // namespace weft::aio
