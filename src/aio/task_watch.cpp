// TaskWatch: one DoneWaiter per unfinished task, a deadline timer, and the
// condition that wakes the awaiting task.
#include "weft/aio/detail/task_watch.hpp"

#include "weft/aio/event_loop.hpp"

namespace weft::aio::detail {

namespace {
bool failed(const TaskState& task, bool count_cancelled) noexcept {
  return task.cancelled() ? count_cancelled : task.has_exception();
}
}  // namespace

TaskWatch::TaskWatch(std::span<TaskState* const> tasks, Until until, OnCancel on_cancel)
    : Suspension{&TaskWatch::on_cancel}, io::Timer(&on_timer), tasks_(tasks), until_(until), on_cancel_(on_cancel) {
  nodes_.reserve(tasks.size());
  for (TaskState* task : tasks) {
    if (task->done()) {
      count(*task);
    } else {
      Node& node = nodes_.emplace_back(this);
      task->add_done_waiter(node);
    }
  }
}

TaskWatch::~TaskWatch() { detach(); }

void TaskWatch::detach() noexcept {
  for (Node& node : nodes_) TaskState::remove_done_waiter(node);
  if (scheduled()) waiting_->loop().io().cancel_timer(*this);
}

void TaskWatch::count(TaskState& task) noexcept {
  ++done_;
  if (first_failed_ == nullptr && failed(task, until_ == Until::first_failure)) first_failed_ = &task;
}

bool TaskWatch::holds() const noexcept {
  if (done_ == tasks_.size() || timed_out_) return true;
  switch (until_) {
    case Until::first_completed: return done_ > 0;
    case Until::first_exception:
    case Until::first_failure: return first_failed_ != nullptr;
    case Until::all_completed: return false;
  }
  return false;
}

void TaskWatch::await_suspend(std::coroutine_handle<> awaiting) noexcept {
  waiting_ = &current_task_state();
  suspended_ = true;
  if (deadline_) waiting_->loop().io().start_timer(*this, *deadline_);
  waiting_->suspend(awaiting, this);
}

void TaskWatch::await_resume() {
  detach();
  if (waiting_ != nullptr) waiting_->throw_if_cancelled();
}

void TaskWatch::wake() noexcept {
  if (!suspended_) return;
  suspended_ = false;
  detach();
  waiting_->wake();
}

void TaskWatch::on_done(DoneWaiter& node, TaskState& task) noexcept {
  TaskWatch& watch = *static_cast<Node&>(node).watch;
  watch.count(task);
  if (watch.holds()) watch.wake();
}

void TaskWatch::on_timer(io::Timer& timer) noexcept {
  auto& watch = static_cast<TaskWatch&>(timer);
  watch.timed_out_ = true;
  watch.wake();
}

bool TaskWatch::on_cancel(Suspension& self, TaskState& task) noexcept {
  auto& watch = static_cast<TaskWatch&>(self);
  if (watch.on_cancel_ == OnCancel::cancel_tasks) {
    bool any = false;
    for (TaskState* watched : watch.tasks_) {
      if (!watched->done() && watched->cancel(task.cancel_message())) any = true;
    }
    if (any) {
      watch.cancel_passed_on_ = true;
      return true;
    }
  }
  watch.suspended_ = false;
  watch.detach();
  task.wake_cancelled();
  return true;
}

}  // namespace weft::aio::detail
