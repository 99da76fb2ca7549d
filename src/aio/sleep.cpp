// aio::sleep: a timer in the awaiting frame, armed on the loop's core.
#include "weft/aio/sleep.hpp"

#include "weft/aio/event_loop.hpp"

namespace weft::aio {

SleepAwaiter::SleepAwaiter(std::chrono::nanoseconds delay) : detail::Suspension{&on_cancel}, io::Timer(&on_timer) {
  if (delay.count() > 0) get_running_loop().io().start_timer(*this, io::Loop::Clock::now() + delay);
}

SleepAwaiter::~SleepAwaiter() {
  if (!scheduled()) return;
  EventLoop* loop = task_ != nullptr ? &task_->loop() : running_loop_or_null();
  if (loop != nullptr) loop->io().cancel_timer(*this);
}

void SleepAwaiter::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  task_ = &detail::current_task_state();
  if (scheduled()) task_->suspend(awaiting, this);
  else task_->yield(awaiting);
}

void SleepAwaiter::on_timer(io::Timer& timer) noexcept { static_cast<SleepAwaiter&>(timer).task_->wake(); }

bool SleepAwaiter::on_cancel(detail::Suspension& suspension, detail::TaskState& task) noexcept {
  task.loop().io().cancel_timer(static_cast<SleepAwaiter&>(suspension));
  task.wake_cancelled();
  return true;
}

}  // namespace weft::aio
