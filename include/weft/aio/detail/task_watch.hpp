// weft/aio/detail/task_watch.hpp — suspends the running task until a set of
// tasks reaches a condition (the engine of gather, wait and as_completed).
//
// A TaskWatch links one DoneWaiter per unfinished task (one allocation for
// the whole set) and wakes the awaiting task when the condition holds, or
// when its optional deadline passes. What a cancellation of the awaiting
// task does is chosen per use: detach (wait(): the tasks go on), or pass the
// cancellation on to every unfinished task (gather(): the awaiting task
// resumes when the condition holds, as Python's gather does).
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "weft/aio/detail/task_state.hpp"
#include "weft/io/timer.hpp"

namespace weft::aio::detail {

class TaskWatch : private Suspension, private io::Timer {
 public:
  enum class Until {
    first_completed,
    first_exception,  // a task ended with an exception (not cancelled), or all are done
    first_failure,    // a task ended with an exception or cancelled, or all are done
    all_completed,
  };
  enum class OnCancel { detach, cancel_tasks };

  TaskWatch(std::span<TaskState* const> tasks, Until until, OnCancel on_cancel);
  TaskWatch(const TaskWatch&) = delete;
  TaskWatch& operator=(const TaskWatch&) = delete;
  ~TaskWatch();

  // Stop waiting at `deadline` (timed_out() then tells).
  void set_deadline(io::Timer::Clock::time_point deadline) noexcept { deadline_ = deadline; }

  bool await_ready() const noexcept { return holds(); }
  void await_suspend(std::coroutine_handle<> awaiting) noexcept;
  // Throws CancelledError if the awaiting task was cancelled and the
  // cancellation was not passed on.
  void await_resume();

  bool timed_out() const noexcept { return timed_out_; }
  // Whether a cancellation of the awaiting task was passed on to the tasks.
  bool cancel_passed_on() const noexcept { return cancel_passed_on_; }
  // The first task that ended with an exception (or cancelled, for
  // first_failure), in the order they finished; nullptr if none.
  TaskState* first_failed() const noexcept { return first_failed_; }

 private:
  struct Node : DoneWaiter {
    explicit Node(TaskWatch* w) noexcept : DoneWaiter(&TaskWatch::on_done), watch(w) {}
    TaskWatch* watch;
  };
  static void on_done(DoneWaiter& node, TaskState& task) noexcept;
  static bool on_cancel(Suspension& self, TaskState& task) noexcept;
  static void on_timer(io::Timer& timer) noexcept;
  void count(TaskState& task) noexcept;
  bool holds() const noexcept;
  void detach() noexcept;
  void wake() noexcept;

  std::vector<Node> nodes_;
  std::span<TaskState* const> tasks_;
  std::optional<io::Timer::Clock::time_point> deadline_;
  TaskState* waiting_ = nullptr;
  TaskState* first_failed_ = nullptr;
  std::size_t done_ = 0;
  Until until_;
  OnCancel on_cancel_;
  bool suspended_ = false;
  bool timed_out_ = false;
  bool cancel_passed_on_ = false;
};

}  // namespace weft::aio::detail
