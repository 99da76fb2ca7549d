// weft/aio/wait.hpp — asyncio.wait and asyncio.as_completed.
//
// wait(tasks, return_when, timeout) suspends until FIRST_COMPLETED,
// FIRST_EXCEPTION (a task ended with an exception other than a
// cancellation, or all are done) or ALL_COMPLETED (the default), or until
// the timeout passes, and returns {done, pending} — in the input order.
// It never cancels the tasks: not on timeout, not when the awaiting task is
// cancelled (which gets CancelledError). Throws ValueError for an empty set.
//
// as_completed(tasks, timeout) yields the tasks in the order they finish:
//
//   auto completed = aio::as_completed(tasks);
//   while (completed) {
//     int value = co_await completed.next();  // throws the task's exception
//   }
//
// Once the timeout (counted from the as_completed call) has passed, next()
// hands out the tasks that had finished, then throws TimeoutError for each
// task left: a task still unfinished when next() finds the timeout passed is
// never handed out, even if it finishes later (as in Python).
//
// A timeout too long for the clock (nanoseconds::max()) is none. Suspends;
// must be awaited inside a task; the tasks must belong to the running loop.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "weft/aio/detail/task_watch.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/task.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/futures/wait.hpp"

namespace weft::aio {

using futures::ReturnWhen;
using futures::ALL_COMPLETED;
using futures::FIRST_COMPLETED;
using futures::FIRST_EXCEPTION;

template <class H>
struct DoneAndPending {
  std::vector<H> done;
  std::vector<H> pending;
};

namespace detail {
inline TaskWatch::Until until_of(ReturnWhen when) noexcept {
  switch (when) {
    case ReturnWhen::FIRST_COMPLETED: return TaskWatch::Until::first_completed;
    case ReturnWhen::FIRST_EXCEPTION: return TaskWatch::Until::first_exception;
    case ReturnWhen::ALL_COMPLETED: break;
  }
  return TaskWatch::Until::all_completed;
}

// Suspends until `when` holds over `tasks` or the deadline passes.
Task<void> wait_until(std::vector<TaskState*> tasks, ReturnWhen when,
                      std::optional<std::chrono::steady_clock::time_point> deadline);
}  // namespace detail

// H is TaskHandle<T> or TaskRef.
template <class H>
Task<DoneAndPending<H>> wait(std::vector<H> tasks, ReturnWhen return_when = ALL_COMPLETED,
                             std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  if (tasks.empty()) throw ValueError("Set of Tasks/Futures is empty.");
  std::vector<detail::TaskState*> states;
  states.reserve(tasks.size());
  for (const H& task : tasks) states.push_back(&task.state());
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (timeout) deadline = weft::detail::deadline_after_clamped(*timeout);
  co_await detail::wait_until(std::move(states), return_when, deadline);
  DoneAndPending<H> result;
  for (H& task : tasks) (task.done() ? result.done : result.pending).push_back(std::move(task));
  co_return result;
}

// The tasks of an as_completed() call, in the order they finish.
template <class T>
class AsCompleted {
 public:
  AsCompleted(std::vector<TaskHandle<T>> tasks, std::optional<std::chrono::nanoseconds> timeout)
      : tasks_(std::move(tasks)), remaining_(tasks_.size()) {
    if (timeout) deadline_ = weft::detail::deadline_after_clamped(*timeout);
  }

  // Whether next() has tasks left to yield.
  explicit operator bool() const noexcept { return remaining_ > 0; }
  std::size_t remaining() const noexcept { return remaining_; }

  // The next task to finish, awaited: its value or its exception.
  Task<T> next() {
    if (remaining_ == 0) throw RuntimeError("as_completed: no tasks left");
    TaskHandle<T> task = co_await next_done();
    if constexpr (std::is_void_v<T>) {
      task.result();
    } else {
      co_return task.result();
    }
  }

  // The next task to finish, without awaiting its result.
  Task<TaskHandle<T>> next_done() {
    if (remaining_ == 0) throw RuntimeError("as_completed: no tasks left");
    for (;;) {
      if (!timed_out_ && deadline_ && get_running_loop().io().now() >= *deadline_) time_out();
      for (TaskHandle<T>& task : tasks_) {
        if (task && task.done()) {
          --remaining_;
          co_return std::exchange(task, TaskHandle<T>());
        }
      }
      if (timed_out_) {
        --remaining_;
        throw TimeoutError("as_completed: timed out");
      }
      std::vector<detail::TaskState*> pending;
      for (const TaskHandle<T>& task : tasks_)
        if (task) pending.push_back(&task.state());
      co_await detail::wait_until(std::move(pending), FIRST_COMPLETED, deadline_);
    }
  }

 private:
  // Lets go of the tasks still unfinished: what is left of them is a
  // TimeoutError each.
  void time_out() noexcept {
    timed_out_ = true;
    for (TaskHandle<T>& task : tasks_)
      if (task && !task.done()) task = TaskHandle<T>();
  }

  std::vector<TaskHandle<T>> tasks_;
  std::size_t remaining_;
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  bool timed_out_ = false;
};

template <class T>
AsCompleted<T> as_completed(std::vector<TaskHandle<T>> tasks,
                            std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  return AsCompleted<T>(std::move(tasks), timeout);
}

template <class T>
AsCompleted<T> as_completed(std::vector<Task<T>> coros, std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
  std::vector<TaskHandle<T>> tasks;
  tasks.reserve(coros.size());
  for (Task<T>& coro : coros) tasks.push_back(create_task(std::move(coro)));
  return AsCompleted<T>(std::move(tasks), timeout);
}

}  // namespace weft::aio
