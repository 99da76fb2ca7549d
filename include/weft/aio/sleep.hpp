// weft/aio/sleep.hpp — asyncio.sleep: suspend the running task for a while.
//
// `co_await aio::sleep(d)` suspends the task for at least `d` on its loop's
// clock, counted from the await: like Python's sleep coroutine, a sleep does
// nothing until awaited (one made early and awaited later, or never, arms
// nothing meanwhile). sleep(0) (or any non-positive duration) yields: the
// task resumes in the next batch, after every other ready task and an IO
// poll. Allocates nothing (the timer lives in the awaiting frame). Throws
// CancelledError if the task is cancelled meanwhile, RuntimeError if awaited
// outside a task.
#pragma once

#include <chrono>
#include <coroutine>

#include "weft/aio/detail/task_state.hpp"
#include "weft/io/timer.hpp"

namespace weft::aio {

class SleepAwaiter : private detail::Suspension, private io::Timer {
 public:
  explicit SleepAwaiter(std::chrono::nanoseconds delay) noexcept;
  SleepAwaiter(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const noexcept { return false; }
  // Arms the timer on the task's loop (a non-positive delay arms none).
  void await_suspend(std::coroutine_handle<> awaiting);
  void await_resume() { task_->throw_if_cancelled(); }

 private:
  static void on_timer(io::Timer& timer) noexcept;
  static bool on_cancel(detail::Suspension& suspension, detail::TaskState& task) noexcept;

  std::chrono::nanoseconds delay_;
  detail::TaskState* task_ = nullptr;
};

template <class Rep, class Period>
SleepAwaiter sleep(std::chrono::duration<Rep, Period> delay) {
  return SleepAwaiter(std::chrono::ceil<std::chrono::nanoseconds>(delay));
}
// Python's sleep(seconds) with a floating-point number of seconds.
inline SleepAwaiter sleep(double seconds) {
  return sleep(std::chrono::duration<double>(seconds));
}

}  // namespace weft::aio
