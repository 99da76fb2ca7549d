// weft/aio/sleep.hpp — asyncio.sleep: suspend the running task for a while.
//
// `co_await aio::sleep(d)` suspends the task for at least `d` on its loop's
// clock, counted from the await: like Python's sleep coroutine, a sleep does
// nothing until awaited (one made early and awaited later, or never, arms
// nothing meanwhile). sleep(0) (or any non-positive duration) yields: the
// task resumes in the next batch, after every other ready task and an IO
// poll. A delay too long for the clock (sleep(inf), hours::max()) sleeps
// until the task is cancelled (a loop where nothing else could cancel it
// reports a deadlock, see event_loop.hpp). Allocates nothing (the timer
// lives in the awaiting frame). Throws CancelledError if the task is
// cancelled meanwhile, RuntimeError if awaited outside a task, and
// ValueError for a NaN delay (as Python 3.13 does; at the call).
#pragma once

#include <chrono>
#include <cmath>
#include <coroutine>
#include <type_traits>

#include "weft/aio/detail/task_state.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/io/timer.hpp"

namespace weft::aio {

class SleepAwaiter : private detail::Suspension, private io::Timer {
 public:
  explicit SleepAwaiter(std::chrono::nanoseconds delay) noexcept;
  SleepAwaiter(const SleepAwaiter&) = delete;
  ~SleepAwaiter();

  bool await_ready() const noexcept { return false; }
  // Arms the timer on the task's loop. A non-positive delay arms none (a
  // yield), nor does one past the end of the clock's range (the sleep then
  // ends only by cancellation).
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
  if constexpr (std::is_floating_point_v<Rep>) {
    if (std::isnan(delay.count())) throw ValueError("Invalid delay: NaN (not a number)");
  }
  return SleepAwaiter(weft::detail::ceil_nanoseconds_saturated(delay));
}
// Python's sleep(seconds) with a floating-point number of seconds.
inline SleepAwaiter sleep(double seconds) {
  return sleep(std::chrono::duration<double>(seconds));
}

}  // namespace weft::aio
