// weft/aio/detail/future_awaiter.hpp — suspends the running task until a
// weft::futures::Future, completed on another thread, is done: the engine of
// wrap_future, run_in_executor and to_thread.
//
// The future's done-callback runs on the thread that completes it and wakes
// the task through call_soon_threadsafe. Between the two stands a small
// shared FutureWakeup, because either side may go first: the future may be
// completed long after the awaiting task was cancelled and its frame is
// gone, and the task may be cancelled while the callback is on its way.
// While it waits, the awaiter holds an EventLoop::keep_alive() token, so
// that a loop with nothing else to do waits for the other thread instead of
// reporting a deadlock.
//
// Cancelling the awaiting task cancels the future (which only succeeds if
// its job has not started, as in Python) and resumes the task at once with
// CancelledError.
#pragma once

#include <coroutine>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/errors.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/futures/future.hpp"

namespace weft::aio::detail {

// The bridge from the completing thread to the awaiting task's loop.
class FutureWakeup : public std::enable_shared_from_this<FutureWakeup> {
 public:
  explicit FutureWakeup(TaskState& task) noexcept : loop_(&task.loop()), task_(&task) {}
  FutureWakeup(const FutureWakeup&) = delete;
  FutureWakeup& operator=(const FutureWakeup&) = delete;

  // Any thread: the future is done; wakes the task in its loop unless the
  // awaiter detached meanwhile. Throws what call_soon_threadsafe throws.
  void post();
  // The loop's thread: the task no longer waits (resumed, cancelled or
  // destroyed); a later post() does nothing.
  void detach() noexcept;

 private:
  void deliver() noexcept;

  std::mutex mutex_;
  EventLoop* loop_;  // guarded by mutex_; null once detached
  TaskState* task_;  // the loop's thread only; null once woken or detached
};

// How await_resume hands the value over: a copy (the future is shared with
// others) or by moving it out of the future (the awaiter is its only reader).
enum class FutureValue { copy, take };

template <class T, FutureValue Mode>
class FutureAwaiter : private Suspension {
 public:
  explicit FutureAwaiter(futures::Future<T> future) noexcept
      : Suspension{&on_cancel}, future_(std::move(future)) {}
  FutureAwaiter(const FutureAwaiter&) = delete;
  FutureAwaiter& operator=(const FutureAwaiter&) = delete;
  ~FutureAwaiter() {
    if (wakeup_) wakeup_->detach();
  }

  bool await_ready() const noexcept { return future_.done(); }

  void await_suspend(std::coroutine_handle<> awaiting) {
    TaskState& task = current_task_state();
    auto wakeup = std::make_shared<FutureWakeup>(task);
    keep_alive_.emplace(task.loop().keep_alive());
    future_.add_done_callback([wakeup](const futures::Future<T>&) { wakeup->post(); });
    wakeup_ = std::move(wakeup);
    task_ = &task;
    task.suspend(awaiting, this);
  }

  T await_resume() {
    keep_alive_.reset();
    if (task_ != nullptr) task_->throw_if_cancelled();
    // Not done: the wait was cancelled and the cancellation then taken back
    // (uncancel); the wait still ended by cancellation.
    if (!future_.done() || future_.cancelled()) throw CancelledError();
    auto& state = static_cast<futures::detail::State<T>&>(future_.state());
    if (std::exception_ptr error = state.error_when_done()) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) {
      if constexpr (Mode == FutureValue::take) return std::move(state.value());
      else return state.value();
    }
  }

 private:
  static bool on_cancel(Suspension& suspension, TaskState& task) noexcept {
    auto& self = static_cast<FutureAwaiter&>(suspension);
    self.wakeup_->detach();  // first: the cancel below may run the done-callback here
    self.future_.cancel();
    task.wake_cancelled();
    return true;
  }

  futures::Future<T> future_;
  std::shared_ptr<FutureWakeup> wakeup_;
  std::optional<EventLoop::KeepAlive> keep_alive_;
  TaskState* task_ = nullptr;
};

// A coroutine that awaits `future` (the body of wrap_future and
// run_in_executor: a Task, so that it composes with gather, wait_for and
// create_task).
template <class T, FutureValue Mode>
Task<T> await_future(futures::Future<T> future) {
  co_return co_await FutureAwaiter<T, Mode>(std::move(future));
}

}  // namespace weft::aio::detail
