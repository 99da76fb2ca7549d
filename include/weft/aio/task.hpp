// weft/aio/task.hpp — Task<T>, the coroutine type of weft's asyncio, and the
// handles of scheduled tasks.
//
// A function returning Task<T> is Python's `async def`: calling it creates a
// suspended coroutine and runs nothing. There are two ways to run one:
//
//   co_await f();          runs it inline, in the awaiting task, by symmetric
//                          transfer (no allocation beyond its frame, no trip
//                          through the loop); returns its value or throws its
//                          exception with its type.
//   create_task(f())       schedules it on the running loop as a task of its
//                          own, which starts in the next batch, and returns
//                          a TaskHandle<T> — Python's asyncio.Task.
//
// Symmetric transfer is a tail call in GCC's optimized builds (-O2), so a
// chain of inline awaits of any depth runs in constant native stack; in
// unoptimized and sanitized builds (-O0, -O1) each level of the chain takes a
// frame of native stack while it runs, and so does each inline await that
// completes without the task suspending: a loop of some tens of thousands
// of such awaits (`for (...) sum += co_await f();` with an f that never
// suspends) can overflow the stack there before the task next suspends.
// (Resuming the awaited coroutine with a plain call would bound the loop
// but give up the constant stack of deep chains at -O2; AsyncGenerator's
// calls, whose chains are shallow, do that.)
//
// A scheduled task is kept alive by its loop until it finishes, even if every
// handle to it is dropped (Python's "forgotten task" trap cannot happen). An
// exception that no handle ever retrieved (result(), exception(), co_await)
// is reported through the loop's exception handler when the task is
// destroyed, as Python reports "Task exception was never retrieved".
//
// Cancellation follows Python 3.11+: cancel(msg) makes CancelledError(msg)
// appear at the suspension point the task waits at (or the next one); a task
// that lets it propagate, or that returns before reaching a suspension point,
// ends cancelled; cancelling() counts the requests
// and uncancel() takes one back, which is how timeout() and TaskGroup tell
// their own cancellations from outside ones.
//
// Thread-safety: tasks and handles belong to their loop's thread. From other
// threads use EventLoop::call_soon_threadsafe or run_coroutine_threadsafe.
#pragma once

#include <concepts>
#include <coroutine>
#include <exception>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/errors.hpp"

namespace weft::aio {

template <class T = void>
class Task;
template <class T = void>
class TaskHandle;

namespace detail {

// The promise of every Task<T> coroutine. Its TaskState is used when the
// coroutine is scheduled as a task; inline-awaited coroutines only use the
// continuation and the outcome.
class PromiseBase : public TaskState {
 public:
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* frame, std::size_t size) noexcept { free_frame(frame, size); }

  std::suspend_always initial_suspend() const noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) const noexcept {
      std::coroutine_handle<> continuation = self.promise().continuation();
      return continuation ? continuation : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  FinalAwaiter final_suspend() const noexcept { return {}; }

  void unhandled_exception() noexcept { record_exception(std::current_exception()); }
};

template <class T>
class Promise final : public PromiseBase {
 public:
  Promise() noexcept {}
  ~Promise() {
    if (has_value_) value_.~T();
  }
  Task<T> get_return_object() noexcept;
  template <class U>
    requires std::convertible_to<U, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U>) {
    ::new (static_cast<void*>(std::addressof(value_))) T(std::forward<U>(value));
    has_value_ = true;
  }
  T& value() noexcept { return value_; }

 private:
  union {
    T value_;
  };
  bool has_value_ = false;
};

template <>
class Promise<void> final : public PromiseBase {
 public:
  Task<void> get_return_object() noexcept;
  void return_void() const noexcept {}
  void value() const noexcept {}
};

// The outcome of a finished coroutine: its value, or its exception thrown.
template <class T>
decltype(auto) take_outcome(Promise<T>& promise) {
  if (std::exception_ptr exception = promise.take_exception()) std::rethrow_exception(exception);
  if constexpr (!std::is_void_v<T>) return std::move(promise.value());
}

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::Promise<T>;
  using value_type = T;

  Task() noexcept = default;
  Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      frame_ = std::exchange(other.frame_, {});
    }
    return *this;
  }
  ~Task() { reset(); }

  // Whether this holds a coroutine not yet given away.
  explicit operator bool() const noexcept { return static_cast<bool>(frame_); }

  // Runs the coroutine inline (symmetric transfer) and returns its value or
  // throws its exception. Awaiting consumes the Task: `co_await f()` or
  // `co_await std::move(task)`.
  auto operator co_await() && noexcept {
    struct Awaiter {
      std::coroutine_handle<promise_type> frame;
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
        frame.promise().set_continuation(awaiting);
        return frame;
      }
      T await_resume() { return detail::take_outcome(frame.promise()); }
    };
    return Awaiter{frame_};
  }

  // Gives the frame away (to create_task). The Task is empty afterwards.
  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(frame_, {}); }

 private:
  friend class detail::Promise<T>;
  explicit Task(std::coroutine_handle<promise_type> frame) noexcept : frame_(frame) {}
  void reset() noexcept {
    if (frame_) std::exchange(frame_, {}).destroy();
  }

  std::coroutine_handle<promise_type> frame_;
};

namespace detail {
template <class T>
Task<T> Promise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Task<void> Promise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

// A reference to a scheduled task whose result type is not known here (what
// current_task() and all_tasks() return). Copies refer to the same task and
// keep its frame (and outcome) alive.
class TaskRef {
 public:
  TaskRef() noexcept = default;
  explicit TaskRef(detail::TaskState& state) noexcept : state_(&state) { state.add_ref(); }
  TaskRef(const TaskRef& other) noexcept : state_(other.state_) {
    if (state_) state_->add_ref();
  }
  TaskRef(TaskRef&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
  TaskRef& operator=(TaskRef other) noexcept {
    std::swap(state_, other.state_);
    return *this;
  }
  ~TaskRef() {
    if (state_) state_->release();
  }

  explicit operator bool() const noexcept { return state_ != nullptr; }
  friend bool operator==(const TaskRef& a, const TaskRef& b) noexcept { return a.state_ == b.state_; }

  // Requests cancellation: CancelledError(msg) is thrown into the task at
  // the suspension point it waits at (or its next one). Returns false if
  // the task is already done. Never blocks.
  bool cancel(std::string message = {}) { return state_->cancel(std::move(message)); }
  bool cancelled() const noexcept { return state_->cancelled(); }
  bool done() const noexcept { return state_->done(); }
  // The number of cancel() requests not taken back by uncancel() (it stops
  // counting at detail::TaskState::max_cancel_requests, 8,388,607).
  int cancelling() const noexcept { return state_->cancelling(); }
  // Takes one cancel() request back; returns how many remain.
  int uncancel() noexcept { return state_->uncancel(); }
  // "Task-N" unless set_name() gave it another name.
  std::string get_name() const { return state_->get_name(); }
  void set_name(std::string name) { state_->set_name(std::move(name)); }
  // The exception the task ended with, nullptr if it returned a value.
  // Throws InvalidStateError if not done, CancelledError if cancelled.
  std::exception_ptr exception() const;
  // Calls callback(task) in the loop's next batch after the task is done (at
  // once scheduled if it already is). The callback may be move-only.
  template <class F>
    requires std::invocable<F&, TaskRef&>
  void add_done_callback(F callback) {
    state_->add_done_callback([callback = std::move(callback)](detail::TaskState& state) mutable {
      TaskRef task(state);
      callback(task);
    });
  }
  EventLoop& get_loop() const noexcept { return state_->loop(); }

  detail::TaskState& state() const noexcept { return *state_; }

 protected:
  detail::TaskState* state_ = nullptr;
};

// Awaits a task's end. As in Python, cancelling the awaiting task cancels
// the awaited one too (shield() prevents that); the awaiting task resumes
// once the awaited one is done.
class TaskEndAwaiter : private detail::Suspension, private detail::DoneWaiter {
 public:
  // Holds a reference: the awaited task's outcome outlives every handle
  // dropped meanwhile.
  explicit TaskEndAwaiter(detail::TaskState& task) noexcept
      : detail::Suspension{&on_cancel}, detail::DoneWaiter(&on_done), task_(task) {
    task_.add_ref();
  }
  TaskEndAwaiter(const TaskEndAwaiter&) = delete;
  ~TaskEndAwaiter() {
    detail::TaskState::remove_done_waiter(*this);
    task_.release();
  }
  bool await_ready() const noexcept { return task_.done(); }
  // Throws RuntimeError if the awaited task is the running one, as Python.
  void await_suspend(std::coroutine_handle<> awaiting) {
    detail::TaskState& self = detail::current_task_state();
    if (&self == &task_) throw RuntimeError("Task cannot await on itself");
    waiting_ = &self;
    task_.add_done_waiter(*this);
    self.suspend(awaiting, this);
  }
  void await_resume() {
    if (waiting_) waiting_->throw_if_cancelled();
  }

 private:
  static void on_done(detail::DoneWaiter& waiter, detail::TaskState&) noexcept;
  static bool on_cancel(detail::Suspension& suspension, detail::TaskState& waiting) noexcept;

  detail::TaskState& task_;
  detail::TaskState* waiting_ = nullptr;
};

// A scheduled task producing T: Python's asyncio.Task. Returned by
// create_task(); awaiting it waits for the task and returns its result (a
// copy; `co_await std::move(handle)` moves it out).
template <class T>
class TaskHandle : public TaskRef {
 public:
  TaskHandle() noexcept = default;
  explicit TaskHandle(detail::Promise<T>& promise) noexcept : TaskRef(promise) {}

  // The task's value. Throws InvalidStateError if not done, CancelledError
  // if cancelled, or the task's exception with its type.
  std::add_lvalue_reference_t<T> result() const {
    state_->check_result();
    return promise().value();
  }

  auto operator co_await() const& noexcept { return awaiter<false>(); }
  auto operator co_await() && noexcept { return awaiter<true>(); }

 private:
  detail::Promise<T>& promise() const noexcept { return static_cast<detail::Promise<T>&>(*state_); }

  template <bool Move>
  auto awaiter() const noexcept {
    struct Awaiter : TaskEndAwaiter {
      detail::Promise<T>& promise;
      Awaiter(detail::Promise<T>& p) noexcept : TaskEndAwaiter(p), promise(p) {}
      T await_resume() {
        TaskEndAwaiter::await_resume();
        promise.check_result();
        if constexpr (!std::is_void_v<T>) {
          if constexpr (Move) return std::move(promise.value());
          else return promise.value();
        }
      }
    };
    return Awaiter{promise()};
  }
};

}  // namespace weft::aio
