// weft/aio/detail/future_core.hpp — the state of an aio::Future<T> that does
// not depend on T: its outcome but the value, its done callbacks, and the
// tasks awaiting it.
//
// Awaiting follows the suspension protocol of detail/task_state.hpp: a
// FutureWait links itself to the future (intrusive, no allocation) and
// suspends the awaiting task; the future's end wakes the task; cancelling
// the task cancels the future, as Python's Task.cancel() does with the
// future its coroutine waits on.
//
// A future may outlive its loop: the loop's destructor cuts its futures off
// (loop_ becomes null). Completing such a future wakes nothing (a task
// still awaiting it was abandoned with the loop) and cannot schedule its
// done callbacks.
//
// Everything here runs on the loop's thread; nothing is thread-safe.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "weft/aio/detail/task_state.hpp"
#include "weft/detail/unique_function.hpp"

namespace weft::aio {
class EventLoop;
}

namespace weft::aio::detail {

class FutureCore;

// A task suspended on a future until it is done.
class FutureWait : private Suspension {
 public:
  explicit FutureWait(FutureCore& future) noexcept : Suspension{&on_cancel}, future_(future) {}
  FutureWait(const FutureWait&) = delete;
  FutureWait& operator=(const FutureWait&) = delete;
  ~FutureWait();

  bool await_ready() const noexcept;
  // Throws RuntimeError outside a task, or if the running task belongs to
  // another loop than the future.
  void await_suspend(std::coroutine_handle<> awaiting);
  // Throws CancelledError if the awaiting task was cancelled (the future's
  // exception, if it is done, counts as retrieved all the same), else what
  // the future's result() throws.
  void await_resume();

 private:
  friend class FutureCore;
  static bool on_cancel(Suspension& self, TaskState& waiting) noexcept;

  FutureCore& future_;
  TaskState* waiting_ = nullptr;
  FutureWait* prev_ = nullptr;
  FutureWait* next_ = nullptr;
  bool linked_ = false;
};

class FutureCore {
 public:
  using CallbackId = std::uint64_t;

  explicit FutureCore(EventLoop& loop) noexcept;
  FutureCore(const FutureCore&) = delete;
  FutureCore& operator=(const FutureCore&) = delete;

  bool done() const noexcept { return state_ != State::pending; }
  bool cancelled() const noexcept { return state_ == State::cancelled; }
  EventLoop& loop() const noexcept { return *loop_; }

  // cancel(), set_exception() and set_value_stored() throw
  // RuntimeError("Event loop is closed") once done if the future has done
  // callbacks and its loop is gone; add_done_callback() too if it must
  // schedule the callback now.
  bool cancel(std::string message);
  void set_exception(std::exception_ptr exception);
  // Throws InvalidStateError unless the future is pending (before a
  // derived class stores its value).
  void check_pending() const;
  // Marks the future done with the value its derived class stored.
  void set_value_stored();
  // Throws InvalidStateError if not done, CancelledError if cancelled, the
  // future's exception if it has one. Marks the exception retrieved.
  void check_result();
  std::exception_ptr exception();

  CallbackId add_done_callback(weft::detail::UniqueFunction<void(FutureCore&)> callback);
  std::size_t remove_done_callback(CallbackId id) noexcept;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  // Called by the destructor of the loop whose futures `first` lists.
  static void cut_off(FutureCore* first) noexcept;

 protected:
  virtual ~FutureCore();

 private:
  friend class FutureWait;
  enum class State : std::uint8_t { pending, cancelled, finished };
  struct Callback {
    CallbackId id;
    weft::detail::UniqueFunction<void(FutureCore&)> function;
  };

  // Wakes the awaiting tasks and schedules the done callbacks.
  void complete(State state);
  void schedule_callback(weft::detail::UniqueFunction<void(FutureCore&)> callback);
  void link(FutureWait& wait) noexcept;
  void unlink(FutureWait& wait) noexcept;

  EventLoop* loop_;  // null once the loop is gone
  FutureCore* prev_in_loop_ = nullptr;  // the loop's list of its futures
  FutureCore* next_in_loop_ = nullptr;
  FutureWait* waits_ = nullptr;  // the awaiting tasks, first come first
  FutureWait* waits_tail_ = nullptr;
  std::vector<Callback> callbacks_;
  std::exception_ptr exception_;
  std::string cancel_message_;
  CallbackId next_callback_id_ = 1;
  std::uint32_t refs_ = 0;
  State state_ = State::pending;
  bool retrieved_ = false;
};

inline void counted_add_ref(FutureCore* future) noexcept { future->add_ref(); }
inline void counted_release(FutureCore* future) noexcept { future->release(); }

}  // namespace weft::aio::detail
