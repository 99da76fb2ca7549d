// aio::sleep: a timer in the awaiting frame, armed on the loop's core.
#include "weft/aio/sleep.hpp"

#include "weft/aio/event_loop.hpp"

namespace weft::aio {

SleepAwaiter::SleepAwaiter(std::chrono::nanoseconds delay) noexcept
    : detail::Suspension{&on_cancel}, io::Timer(&on_timer), delay_(delay) {}

SleepAwaiter::~SleepAwaiter() {
  if (scheduled()) task_->loop().io().cancel_timer(*this);
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> awaiting) {
  task_ = &detail::current_task_state();
  if (delay_.count() <= 0) {
    task_->yield(awaiting);
    return;
  }
  if (const weft::detail::Deadline when = weft::detail::deadline_after(delay_))
    task_->loop().io().start_timer(*this, *when);
  task_->suspend(awaiting, this);
}

void SleepAwaiter::on_timer(io::Timer& timer) noexcept { static_cast<SleepAwaiter&>(timer).task_->wake(); }

bool SleepAwaiter::on_cancel(detail::Suspension& suspension, detail::TaskState& task) noexcept {
  task.loop().io().cancel_timer(static_cast<SleepAwaiter&>(suspension));
  task.wake_cancelled();
  return true;
}

}  // namespace weft::aio
