// Handles of scheduled tasks: their outcome and the awaiting of their end.
#include "weft/aio/task.hpp"

#include "weft/aio/event_loop.hpp"

namespace weft::aio {

std::exception_ptr TaskRef::exception() const {
  if (!state_->done()) throw InvalidStateError("Exception is not set.");
  if (state_->cancelled()) state_->check_result();
  return state_->take_exception();
}

void TaskEndAwaiter::on_done(detail::DoneWaiter& waiter, detail::TaskState&) noexcept {
  static_cast<TaskEndAwaiter&>(waiter).waiting_->wake();
}

bool TaskEndAwaiter::on_cancel(detail::Suspension& suspension, detail::TaskState& waiting) noexcept {
  auto& self = static_cast<TaskEndAwaiter&>(suspension);
  if (self.task_.passing_cancel_on()) {
    // The awaited task awaits this one (a cycle): stop here.
    detail::TaskState::remove_done_waiter(self);
    waiting.wake_cancelled();
    return true;
  }
  // Python: cancelling a task that awaits another cancels the awaited one;
  // the awaiting task resumes when that one is done.
  return self.task_.cancel(waiting.cancel_message());
}

}  // namespace weft::aio
