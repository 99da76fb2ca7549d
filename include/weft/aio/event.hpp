// weft/aio/event.hpp — aio::Event, Python's asyncio.Event: a flag that
// tasks wait on.
//
//   co_await event.wait();   // suspends until the flag is set
//   event.set();             // sets it and wakes every waiter
//
// The flag starts cleared. wait() returns at once while the flag is set; a
// task woken by set() returns even if clear() ran before it got to run, as
// in Python. Waiters are woken in the order they began to wait. A waiter
// cancelled while it waits throws CancelledError and leaves the others
// waiting.
//
// Waiting allocates nothing; set() and clear() never suspend.
//
// Not thread-safe: use an event from the tasks of one loop only (weft::Event
// is the thread-safe one; from another thread, set it through
// EventLoop::call_soon_threadsafe). Not copyable or movable; destroying an
// event that tasks wait on is undefined behaviour.
#pragma once

#include <coroutine>

#include "weft/aio/detail/wait_list.hpp"

namespace weft::aio {

class Event {
 public:
  class WaitAwaiter;

  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  // `co_await event.wait()`: returns at once if the flag is set, else
  // suspends the task until set(). Throws CancelledError if the task is
  // cancelled meanwhile.
  WaitAwaiter wait() noexcept;
  // Sets the flag and wakes every waiter. Never suspends.
  void set() noexcept {
    if (value_) return;
    value_ = true;
    waiters_.notify_all();
  }
  // Clears the flag: later wait() calls suspend until the next set().
  void clear() noexcept { value_ = false; }
  bool is_set() const noexcept { return value_; }

 private:
  detail::WaitList waiters_;
  bool value_ = false;
};

class Event::WaitAwaiter : private detail::WaitList::Waiter {
 public:
  explicit WaitAwaiter(Event& event) noexcept : Waiter(event.waiters_), event_(event) {}
  WaitAwaiter(const WaitAwaiter&) = delete;

  bool await_ready() const noexcept { return event_.value_; }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept {
    waited_ = true;
    Waiter::await_suspend(awaiting);
  }
  void await_resume() {
    if (waited_) Waiter::await_resume();
  }

 private:
  const Event& event_;
  bool waited_ = false;
};

inline Event::WaitAwaiter Event::wait() noexcept { return WaitAwaiter(*this); }

}  // namespace weft::aio
