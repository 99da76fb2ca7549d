// weft/aio/detail/task_state.hpp — what the event loop knows of a task, and
// the protocol every awaiter follows to suspend one.
//
// A scheduled task (create_task) is a root coroutine frame whose promise
// holds a TaskState. Coroutines it awaits inline (a Task<T> awaited directly)
// run inside it: they share its TaskState, which records where to resume
// (`resume_`, the innermost suspended coroutine) and what it waits on (its
// Suspension).
//
// The protocol, for an awaiter that suspends the running task:
//
//   await_suspend(h): TaskState& task = current_task_state();
//                     register with whatever will wake the task;
//                     task.suspend(h, &suspension);
//   on wake-up:       task.wake()               — it resumes in the next batch
//   on_cancel hook:   detach, then task.wake_cancelled(), return true — or
//                     pass the cancellation on (to an awaited task) and
//                     return true — or return false: the task then gets
//                     CancelledError at its next suspension point;
//   await_resume():   task.throw_if_cancelled() first (a cancel that arrived
//                     after the wake-up still wins, as in Python), then
//                     return the result.
//
// An awaiter's destructor must detach it if it is still registered: a frame
// is destroyed while suspended only when its loop is torn down.
//
// Everything here runs on the loop's thread; nothing is thread-safe.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "weft/detail/unique_function.hpp"

namespace weft::aio {
class EventLoop;
}

namespace weft::aio::detail {

class TaskState;

// Where a suspended task waits; its hook is called when the task is
// cancelled there (see the protocol above).
struct Suspension {
  using CancelHook = bool (*)(Suspension& self, TaskState& task) noexcept;
  CancelHook on_cancel;
};

// A node that is told when a task is done (awaiting a task, gather, wait,
// TaskGroup). Intrusive: linking one allocates nothing. `on_done` runs
// inside the loop's step of the finishing task; it may unlink others but
// must not resume anything directly (wake tasks instead).
struct DoneWaiter {
  using Hook = void (*)(DoneWaiter& self, TaskState& done) noexcept;
  explicit DoneWaiter(Hook hook) noexcept : on_done(hook) {}
  Hook on_done;
  DoneWaiter* prev = nullptr;
  DoneWaiter* next = nullptr;
  TaskState* linked_to = nullptr;
};

class TaskState {
 public:
  TaskState() noexcept : continuation_() {}
  TaskState(const TaskState&) = delete;
  TaskState& operator=(const TaskState&) = delete;

  // ---- suspension protocol ----------------------------------------------
  void suspend(std::coroutine_handle<> where, Suspension* on) noexcept {
    resume_ = where;
    waiter_ = on;
  }
  // Suspends at `where` and resumes in the next batch (sleep(0)).
  void yield(std::coroutine_handle<> where) noexcept {
    resume_ = where;
    wake();
  }
  void wake() noexcept;
  // Wakes the task to throw CancelledError where it waited. Unlike a
  // pending cancel request, uncancel() does not take this back: the wait
  // was ended by the cancellation (Python's cancelled waiter future).
  void wake_cancelled() noexcept {
    woken_cancelled_ = true;
    wake();
  }
  // Throws CancelledError (with cancel()'s message) if a cancellation is due.
  void throw_if_cancelled() {
    if (must_cancel_ || woken_cancelled_) throw_cancelled();
  }
  // Whether a cancel() of this task is passing through its suspension now
  // (a cycle of tasks awaiting each other stops there).
  bool passing_cancel_on() const noexcept { return in_cancel_; }

  // ---- Python's Task ----------------------------------------------------
  bool cancel(std::string message = {});
  bool cancelled() const noexcept { return done_ && ended_cancelled_; }
  bool done() const noexcept { return done_; }
  // Whether the task ended with an exception (its CancelledError included).
  bool has_exception() const noexcept { return done_ && exception_ != nullptr; }
  int uncancel() noexcept;
  // The cancel() requests not taken back; it counts up to
  // max_cancel_requests and stays there.
  int cancelling() const noexcept { return cancel_requests_; }
  static constexpr int max_cancel_requests = (1 << 23) - 1;
  // "Task-N", N counted process-wide when a task's name is first asked
  // for, unless set_name() gave it another.
  std::string get_name();
  void set_name(std::string name);
  const std::string& cancel_message() const noexcept;
  EventLoop& loop() const noexcept { return *loop_; }
  // The outcome: nullptr if the task returned a value. Marks it retrieved.
  std::exception_ptr take_exception() noexcept {
    retrieved_ = true;
    return exception_;
  }
  // Throws InvalidStateError unless done; throws the task's exception (its
  // CancelledError when cancelled). Marks the exception retrieved.
  void check_result();
  void add_done_callback(weft::detail::UniqueFunction<void(TaskState&)> callback);
  void add_done_waiter(DoneWaiter& waiter) noexcept;
  static void remove_done_waiter(DoneWaiter& waiter) noexcept;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) destroy();
  }

  // ---- used by the promise and the loop ---------------------------------
  void record_exception(std::exception_ptr exception) noexcept;
  // Takes the pending cancel request as the outcome: CancelledError with
  // cancel()'s message.
  void end_cancelled() noexcept;
  // The coroutine an inline-awaited coroutine returns to (unused by a
  // scheduled task, whose frame_ shares the storage).
  std::coroutine_handle<> continuation() const noexcept { return root_ ? nullptr : continuation_; }
  void set_continuation(std::coroutine_handle<> awaiting) noexcept { continuation_ = awaiting; }

 protected:
  ~TaskState() = default;

 private:
  friend class weft::aio::EventLoop;
  struct Extras {
    std::uint64_t id = 0;  // the N of "Task-N", given when first asked for
    std::string name;
    std::string cancel_message;
    std::vector<weft::detail::UniqueFunction<void(TaskState&)>> callbacks;
  };

  Extras& extras();
  // Runs callback(*this) in the loop's next iteration, holding a reference
  // to the task until then.
  void schedule_callback(weft::detail::UniqueFunction<void(TaskState&)> callback);
  std::uint64_t task_number();
  [[noreturn]] void throw_cancelled();
  void destroy() noexcept;

  union {
    std::coroutine_handle<> frame_;         // a scheduled task's own frame
    std::coroutine_handle<> continuation_;  // an inline-awaited coroutine's awaiter
  };
  std::coroutine_handle<> resume_;  // the innermost suspended coroutine
  Suspension* waiter_ = nullptr;    // what the task waits on, while it waits
  TaskState* next_ready_ = nullptr;
  TaskState* prev_task_ = nullptr;  // the loop's list of unfinished tasks
  TaskState* next_task_ = nullptr;
  DoneWaiter* done_waiters_ = nullptr;
  EventLoop* loop_ = nullptr;
  std::unique_ptr<Extras> extras_;
  std::exception_ptr exception_;
  std::uint32_t refs_ = 0;
  // 23 bits, saturating at max_cancel_requests: one word with the flags below.
  std::uint32_t cancel_requests_ : 23 = 0;
  bool root_ : 1 = false;  // scheduled as a task: frame_ is in use
  bool must_cancel_ : 1 = false;
  bool done_ : 1 = false;
  bool ended_cancelled_ : 1 = false;
  bool retrieved_ : 1 = false;
  bool queued_ : 1 = false;
  bool started_ : 1 = false;
  bool in_cancel_ : 1 = false;
  bool woken_cancelled_ : 1 = false;
};

// The task running on this thread's loop. Throws RuntimeError outside one.
TaskState& current_task_state();
// The same, or nullptr.
TaskState* current_task_state_or_null() noexcept;

// Counts coroutine frames of Task<T> alive: those of this thread plus those
// left by threads that ended (a debug aid for tests: a count that does not
// return to its start is a leak).
long live_frames() noexcept;
void* allocate_frame(std::size_t size);
void free_frame(void* frame, std::size_t size) noexcept;

}  // namespace weft::aio::detail
