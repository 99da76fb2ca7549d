// weft/aio/timeout.hpp — asyncio.timeout / timeout_at scopes and wait_for.
//
// Python's `async with asyncio.timeout(d): await body()` is written
//
//   co_await aio::timeout(d).run(body());
//
// The body (a Task<T> coroutine, run inline, or a TaskHandle<T>) is awaited
// with a deadline: when it passes, the running task is cancelled; the
// CancelledError that comes out of the body becomes TimeoutError — unless
// the task was also cancelled from elsewhere meanwhile, which the
// cancelling()/uncancel() counts tell apart (so nested timeouts, TaskGroups
// and outside cancellations compose, and a cancel is never swallowed: the
// trap of Python's old wait_for, cpython gh-86296). A body that catches the
// cancellation and returns normally returns normally.
//
// A Timeout object may be kept to look at or move its deadline from inside
// the body: when(), reschedule(when), expired().
//
// wait_for(aw, d) is timeout(d).run(aw) (as in Python 3.12): awaiting a
// TaskHandle cancels that task when the time runs out. With d <= 0 a
// coroutine never starts: TimeoutError at once; a task not done is
// cancelled at once and waited for (its cancellation is TimeoutError, a
// value it returns instead is returned). A Future is awaited by a task of
// its own (ensure_future): the time running out cancels the future; with
// d <= 0 a future already done gives its result (or throws its exception)
// and a pending one is cancelled: TimeoutError.
//
// Suspends; must be awaited inside a task. Throws TimeoutError,
// CancelledError, or what the body throws.
#pragma once

#include <chrono>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/future.hpp"
#include "weft/aio/task.hpp"
#include "weft/aio/wait.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/io/timer.hpp"

namespace weft::aio {

class Timeout : private io::Timer {
 public:
  using Clock = io::Timer::Clock;

  // A deadline of nullopt never expires (until rescheduled).
  explicit Timeout(std::optional<Clock::time_point> when) noexcept : io::Timer(&on_timer), when_(when) {}
  Timeout(const Timeout&) = delete;
  Timeout& operator=(const Timeout&) = delete;
  ~Timeout() { disarm(); }

  // Awaits `body` within the deadline (see above). A Timeout runs one body.
  template <class T>
  Task<T> run(Task<T> body) {
    enter();
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(body);
        exit(false);
      } else {
        T value = co_await std::move(body);
        exit(false);
        co_return value;
      }
    } catch (const weft::CancelledError&) {
      exit(true);
      throw;
    } catch (...) {
      exit(false);  // every way out uncancels an expiry, as Python's __aexit__ does
      throw;
    }
  }
  template <class T>
  Task<T> run(TaskHandle<T> task) {
    return run(await_handle(std::move(task)));
  }

  std::optional<Clock::time_point> when() const noexcept { return when_; }
  // Moves the deadline (nullopt: none). Throws RuntimeError until run() is
  // awaited (the timeout is entered), and once it expired or exited.
  void reschedule(std::optional<Clock::time_point> when);
  // Whether the deadline passed and the body was cancelled for it.
  bool expired() const noexcept { return state_ == State::expiring || state_ == State::expired; }

 private:
  enum class State { created, entered, expiring, expired, exited };
  template <class T>
  static Task<T> await_handle(TaskHandle<T> task) {
    co_return co_await std::move(task);
  }
  static void on_timer(io::Timer& timer) noexcept;
  void enter();
  // Leaves the scope; with `cancelled`, throws TimeoutError if the
  // cancellation was this timeout's own.
  void exit(bool cancelled);
  void arm() noexcept;
  void disarm() noexcept;

  std::optional<Clock::time_point> when_;
  detail::TaskState* task_ = nullptr;
  int cancelling_ = 0;
  State state_ = State::created;
};

// A scope expiring after `delay` (nullopt: never); a delay too long for the
// clock (seconds::max(), centuries) never expires either. Throws
// RuntimeError outside a running loop.
template <class Rep, class Period>
Timeout timeout(std::chrono::duration<Rep, Period> delay) {
  get_running_loop();  // Python's timeout() needs one too
  return Timeout(weft::detail::deadline_after_clamped(delay));
}
inline Timeout timeout(std::nullopt_t) noexcept { return Timeout(std::nullopt); }
// A scope expiring at `when` on the loop's clock.
inline Timeout timeout_at(std::optional<Timeout::Clock::time_point> when) noexcept { return Timeout(when); }

// Python's asyncio.wait_for: `aw` within `delay`, else TimeoutError.
template <class T, class Rep, class Period>
Task<T> wait_for(Task<T> aw, std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero()) throw TimeoutError("timed out");  // Python makes it a task and cancels it unstarted
  Timeout scope = timeout(delay);
  co_return co_await scope.run(std::move(aw));
}
template <class T, class Rep, class Period>
Task<T> wait_for(TaskHandle<T> aw, std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero()) {
    if (!aw.done()) {
      aw.cancel();
      // Not an await of the task: a cancel of this one is not passed on.
      std::vector<detail::TaskState*> waited(1, &aw.state());
      co_await detail::wait_until(std::move(waited), ALL_COMPLETED, std::nullopt);
      if (aw.cancelled()) throw TimeoutError("timed out");
    }
    co_return co_await std::move(aw);
  }
  Timeout scope = timeout(delay);
  co_return co_await scope.run(std::move(aw));
}

template <class T, class Rep, class Period>
Task<T> wait_for(Future<T> aw, std::chrono::duration<Rep, Period> delay) {
  if (delay <= delay.zero() && aw.done()) return detail::await_future_of(std::move(aw));
  return wait_for(ensure_future(std::move(aw)), delay);
}

}  // namespace weft::aio
