// weft/aio/task_group.hpp — asyncio.TaskGroup: structured concurrency.
//
// Python's
//
//   async with asyncio.TaskGroup() as tg:
//       tg.create_task(a()); tg.create_task(b())
//
// is written
//
//   co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<> {
//     tg.create_task(a());
//     tg.create_task(b());
//     co_return;
//   });
//
// task_group() runs the body, then waits until every task of the group is
// done. The first task to fail (with an exception other than a
// cancellation) cancels the others and the body, in the loop's next
// iteration (as Python's done callbacks do: tasks failing in the same
// iteration all report their errors); the errors — and the
// body's own, if it failed — are thrown together as one ExceptionGroup.
// A cancellation from outside cancels every task and propagates as
// CancelledError; the group's own cancellation of the body never escapes
// (cancelling()/uncancel() tell them apart, so timeout() and TaskGroup
// compose).
//
// A TaskGroup can also be driven by hand: create it inside a task, add tasks,
// then `co_await tg.join()` (the end of the `async with` block). A group
// destroyed before join() cancels the tasks still running.
//
// Suspends; must be used inside a task. Not thread-safe.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/task.hpp"
#include "weft/io/timer.hpp"

namespace weft::aio {

class TaskGroup : private io::Timer {
 public:
  // Binds the group to the running task, which it holds a reference to (the
  // task it cancels on the first failure). Throws RuntimeError outside one.
  TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;
  ~TaskGroup();

  // Schedules `coro` as a task of the group. Throws RuntimeError once the
  // group is finished or shutting down after a failure.
  template <class T>
  TaskHandle<T> create_task(Task<T> coro, std::string name = {}) {
    check_open();
    TaskHandle<T> task = parent_.get_loop().create_task(std::move(coro));
    if (!name.empty()) task.set_name(std::move(name));
    track(task.state());
    return task;
  }

  // Waits for every task; throws as described above. `body_error` is the
  // exception that ended the body of the block, if any.
  Task<void> join(std::exception_ptr body_error = nullptr);

 private:
  struct Member : detail::DoneWaiter {
    Member(TaskGroup& g, detail::TaskState& t) noexcept : DoneWaiter(&TaskGroup::on_done), group(&g), task(&t) {}
    TaskGroup* group;
    detail::TaskState* task;
    Member* prev = nullptr;
    Member* next = nullptr;
  };
  static void on_done(detail::DoneWaiter& member, detail::TaskState& task) noexcept;
  static void on_first_failure(io::Timer& timer) noexcept;
  void check_open() const;
  void track(detail::TaskState& task);
  void forget(Member& member) noexcept;
  void abort() noexcept;

  TaskRef parent_;
  Member* members_ = nullptr;
  std::size_t running_ = 0;
  detail::WaitList completed_;
  std::vector<std::exception_ptr> errors_;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

// Runs `body(group)` as the block of a TaskGroup, then join()s it.
template <class Body>
Task<void> task_group(Body body) {
  TaskGroup group;
  std::exception_ptr error;
  try {
    co_await body(group);
  } catch (...) {
    error = std::current_exception();
  }
  co_await group.join(error);
}

}  // namespace weft::aio
