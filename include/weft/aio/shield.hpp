// weft/aio/shield.hpp — asyncio.shield: await a task without passing a
// cancellation on to it.
//
//   int v = co_await aio::shield(std::move(handle));   // or shield(coro())
//
// If the awaiting task is cancelled, it gets CancelledError at once while
// the shielded task goes on running (the loop keeps it alive; keep its
// handle to collect its result later). Otherwise returns the task's value or
// throws its exception. A coroutine is scheduled as a task first, a Future
// is awaited by a task of its own (ensure_future), which the cancellation
// does not reach either. Suspends; must be awaited inside a task; allocates
// nothing beyond that task.
#pragma once

#include <coroutine>
#include <utility>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/future.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

template <class T>
class ShieldAwaiter : private detail::Suspension, private detail::DoneWaiter {
 public:
  explicit ShieldAwaiter(TaskHandle<T> task) noexcept
      : detail::Suspension{&on_cancel}, detail::DoneWaiter(&on_done), task_(std::move(task)) {}
  ShieldAwaiter(const ShieldAwaiter&) = delete;
  ~ShieldAwaiter() { detail::TaskState::remove_done_waiter(*this); }

  bool await_ready() const noexcept { return task_.done(); }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    waiting_ = &detail::current_task_state();
    task_.state().add_done_waiter(*this);
    waiting_->suspend(awaiting, this);
  }
  T await_resume() {
    if (waiting_ != nullptr) waiting_->throw_if_cancelled();
    return task_.result();
  }

 private:
  static void on_done(detail::DoneWaiter& self, detail::TaskState&) noexcept {
    static_cast<ShieldAwaiter&>(self).waiting_->wake();
  }
  static bool on_cancel(detail::Suspension& self, detail::TaskState& waiting) noexcept {
    auto& shield = static_cast<ShieldAwaiter&>(self);
    detail::TaskState::remove_done_waiter(shield);
    // Nobody awaits the task now: as in Python, its exception counts as
    // retrieved (keep the handle to look at it).
    try {
      shield.task_.state().add_done_callback([](detail::TaskState& done) { done.take_exception(); });
    } catch (...) {
      // Out of memory: it may be reported as never retrieved.
    }
    waiting.wake_cancelled();
    return true;
  }

  TaskHandle<T> task_;
  detail::TaskState* waiting_ = nullptr;
};

template <class T>
ShieldAwaiter<T> shield(TaskHandle<T> task) noexcept {
  return ShieldAwaiter<T>(std::move(task));
}
template <class T>
ShieldAwaiter<T> shield(Task<T> coro) {
  return ShieldAwaiter<T>(create_task(std::move(coro)));
}
template <class T>
ShieldAwaiter<T> shield(Future<T> future) {
  return ShieldAwaiter<T>(ensure_future(std::move(future)));
}

}  // namespace weft::aio
