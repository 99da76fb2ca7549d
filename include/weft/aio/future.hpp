// weft/aio/future.hpp — aio::Future<T>, Python's asyncio.Future: a result
// that callback-style code sets and tasks await.
//
//   aio::Future<int> fut = loop.create_future<int>();
//   loop.call_later(10ms, [fut]() mutable { fut.set_result(42); });
//   int v = co_await fut;
//
// A Future is pending until set_result(), set_exception() or cancel() makes
// it done; from then on its outcome never changes. Awaiting it from a task
// suspends the task until it is done, then returns the result (a copy;
// `co_await std::move(fut)` moves it out) or throws its exception, or
// CancelledError (with cancel()'s message) if it was cancelled. As in
// Python, cancelling a task that awaits a future cancels the future; use
// shield() to prevent that. The awaiting task resumes in the loop's next
// batch after the future is done.
//
// Handles are references, as Python's futures are: copies share the one
// state (a single allocation, freed with the last handle), and operator==
// tells whether two handles are the same future. A moved-from handle is
// empty; every other use of an empty handle is undefined.
//
// Where weft differs from Python:
//   * add_done_callback() returns an id that remove_done_callback() takes
//     (C++ callables cannot be compared as Python's functions are).
//   * ensure_future(fut) returns a TaskHandle<T> awaiting the future (a
//     task of its own, one coroutine frame), not the future itself: that is
//     how wait() and as_completed(), which take tasks, take futures.
//     gather(), shield() and wait_for() take a Future directly (through
//     such a task).
//   * set_exception() refuses a null exception_ptr with TypeError; it does
//     not look for StopIteration, which C++ coroutines do not use.
//   * Python's Future() with no loop is Future<T>(aio::get_running_loop()).
//
// An exception set but never retrieved (result(), exception(), co_await)
// is reported when the last handle goes: through the loop's exception
// handler if that loop is running on this thread, else to stderr by the
// default handler (the loop may be gone by then).
//
// A future may outlive its loop. Once the loop is destroyed, completing
// the future wakes no task (one still awaiting it was abandoned with the
// loop), and its done callbacks cannot be scheduled: set_result(),
// set_exception() and cancel() make it done, then throw RuntimeError("Event
// loop is closed") if it has any, as Python's call_soon does.
//
// Thread-safety: none, as in Python. A future and its handles belong to its
// loop's thread; another thread completes one through the loop:
//   loop.call_soon_threadsafe([fut]() mutable { fut.set_result(v); });
// (the handle is copied in on that thread: copy it before, on the loop's
// thread, and move the copy into the callback).
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/detail/future_core.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

namespace detail {

template <class T>
class FutureState final : public FutureCore {
 public:
  using FutureCore::FutureCore;
  template <class... A>
  void set(A&&... args) {
    check_pending();
    value_.emplace(std::forward<A>(args)...);
    set_value_stored();
  }
  T& value() noexcept { return *value_; }

 private:
  std::optional<T> value_;
};

template <>
class FutureState<void> final : public FutureCore {
 public:
  using FutureCore::FutureCore;
  void set() {
    check_pending();
    set_value_stored();
  }
  void value() const noexcept {}
};

}  // namespace detail

template <class T>
class Future {
 public:
  using value_type = T;
  using CallbackId = detail::FutureCore::CallbackId;

  // A pending future of `loop` (loop.create_future<T>() does the same).
  // Allocates its state; throws std::bad_alloc.
  explicit Future(EventLoop& loop) : state_(new detail::FutureState<T>(loop)) {}

  explicit operator bool() const noexcept { return static_cast<bool>(state_); }
  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_.get() == b.state_.get(); }

  // Makes the future done with `value` (Future<void>: no argument), wakes
  // the tasks awaiting it and schedules its done callbacks. Throws
  // InvalidStateError("invalid state") if it is already done, and
  // RuntimeError once done if its loop is gone and it has done callbacks
  // (see above). Never blocks.
  template <class... A>
    requires(std::is_void_v<T> ? sizeof...(A) == 0 : std::constructible_from<T, A...>)
  void set_result(A&&... value) {
    state_->set(std::forward<A>(value)...);
  }
  // Makes the future done with `exception`, as set_result() does. Throws
  // InvalidStateError if it is already done, TypeError if `exception` is
  // null.
  void set_exception(std::exception_ptr exception) { state_->set_exception(std::move(exception)); }
  template <class E>
    requires std::derived_from<std::remove_cvref_t<E>, std::exception>
  void set_exception(E&& exception) {
    set_exception(std::make_exception_ptr(std::forward<E>(exception)));
  }
  // Cancels the future: done and cancelled, its result() and awaiters throw
  // CancelledError(message). Returns false if it was already done. Throws
  // RuntimeError once done if its loop is gone and it has done callbacks.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }

  bool cancelled() const noexcept { return state_->cancelled(); }
  bool done() const noexcept { return state_->done(); }

  // The value. Throws InvalidStateError("Result is not set.") if not done,
  // CancelledError if cancelled, or the future's exception with its type.
  std::add_lvalue_reference_t<T> result() const {
    state_->check_result();
    return state_->value();
  }
  // The exception, nullptr if the future has a value. Throws
  // InvalidStateError("Exception is not set.") if not done, CancelledError
  // if cancelled.
  std::exception_ptr exception() const { return state_->exception(); }

  // Calls callback(future) through the loop's call_soon once the future is
  // done (at once scheduled if it already is), in the order they were
  // added. What the callback throws goes to the loop's exception handler.
  // Throws RuntimeError if it must be scheduled now and the loop is closed
  // or gone.
  template <class F>
    requires std::invocable<F&, Future&>
  CallbackId add_done_callback(F callback) {
    return state_->add_done_callback([callback = std::move(callback)](detail::FutureCore& core) mutable {
      Future future(static_cast<detail::FutureState<T>*>(&core));
      callback(future);
    });
  }
  // Removes the callback add_done_callback() returned `id` for, unless it
  // was already scheduled. Returns the number removed (0 or 1).
  std::size_t remove_done_callback(CallbackId id) noexcept { return state_->remove_done_callback(id); }

  // The future's loop; undefined once that loop is destroyed.
  EventLoop& get_loop() const noexcept { return state_->loop(); }

  // Suspends the running task until the future is done (see above). Throws
  // RuntimeError outside a task or in a task of another loop.
  auto operator co_await() const& noexcept { return awaiter<false>(); }
  auto operator co_await() && noexcept { return awaiter<true>(); }

 private:
  explicit Future(detail::FutureState<T>* state) noexcept : state_(state) {}

  template <bool Move>
  auto awaiter() const noexcept {
    struct Awaiter : detail::FutureWait {
      detail::CountedRef<detail::FutureState<T>> state;
      explicit Awaiter(const detail::CountedRef<detail::FutureState<T>>& s) noexcept
          : detail::FutureWait(*s), state(s) {}
      T await_resume() {
        detail::FutureWait::await_resume();
        if constexpr (!std::is_void_v<T>) {
          if constexpr (Move) return std::move(state->value());
          else return state->value();
        }
      }
    };
    return Awaiter{state_};
  }

  detail::CountedRef<detail::FutureState<T>> state_;
};

template <class T>
Future<T> EventLoop::create_future() {
  return Future<T>(*this);
}

// Python's asyncio.ensure_future: a task for any awaitable. A coroutine is
// scheduled on the running loop (create_task), a task handle is returned
// as is, and a future gets a task of its loop that awaits it and returns a
// copy of its value (a move-only value is moved out of the future).
// Cancelling that task cancels the future, even before the task first ran.
// Throws RuntimeError outside a running loop for a coroutine, and for a
// future of another loop than the one running on this thread.
namespace detail {
template <class T>
Task<T> await_future_of(Future<T> future) {
  if constexpr (std::is_void_v<T> || std::is_copy_constructible_v<T>) co_return co_await future;
  else co_return co_await std::move(future);
}
}  // namespace detail
template <class T>
TaskHandle<T> ensure_future(Future<T> future) {
  EventLoop& loop = future.get_loop();
  if (EventLoop* running = running_loop_or_null(); running != nullptr && running != &loop)
    throw RuntimeError("ensure_future() got a Future attached to a different loop");
  TaskHandle<T> task = loop.create_task(detail::await_future_of(future));
  // A task cancelled before its first step never awaited the future.
  task.add_done_callback([future = std::move(future)](TaskRef& ended) mutable {
    if (ended.cancelled()) future.cancel(ended.state().cancel_message());
  });
  return task;
}
template <class T>
TaskHandle<T> ensure_future(Task<T> coro) {
  return create_task(std::move(coro));
}
template <class T>
TaskHandle<T> ensure_future(TaskHandle<T> task) noexcept {
  return task;
}

}  // namespace weft::aio
