// asyncio.TaskGroup: members tracked by done waiters, the abort on the first
// failure, and the exit that sorts cancellations from errors.
#include "weft/aio/task_group.hpp"

namespace weft::aio {

TaskGroup::TaskGroup() : io::Timer(&on_first_failure), parent_(detail::current_task_state()) {}

TaskGroup::~TaskGroup() {
  if (scheduled()) parent_.get_loop().io().cancel_timer(*this);
  while (Member* member = members_) {
    detail::TaskState& task = *member->task;
    forget(*member);
    task.cancel();
  }
}

void TaskGroup::check_open() const {
  if (aborting_) throw RuntimeError("TaskGroup is shutting down");
  if (exiting_ && running_ == 0) throw RuntimeError("TaskGroup is finished");
}

void TaskGroup::track(detail::TaskState& task) {
  auto* member = new Member(*this, task);
  member->next = members_;
  if (members_ != nullptr) members_->prev = member;
  members_ = member;
  ++running_;
  task.add_done_waiter(*member);
}

void TaskGroup::forget(Member& member) noexcept {
  detail::TaskState::remove_done_waiter(member);
  if (member.prev != nullptr) member.prev->next = member.next;
  else members_ = member.next;
  if (member.next != nullptr) member.next->prev = member.prev;
  --running_;
  delete &member;
}

void TaskGroup::abort() noexcept {
  aborting_ = true;
  for (Member* member = members_; member != nullptr; member = member->next) {
    if (!member->task->done()) member->task->cancel();
  }
}

void TaskGroup::on_done(detail::DoneWaiter& done, detail::TaskState& task) noexcept {
  auto& member = static_cast<Member&>(done);
  TaskGroup& group = *member.group;
  group.forget(member);
  if (group.running_ == 0) group.completed_.notify_all();
  if (task.cancelled()) return;
  std::exception_ptr error = task.take_exception();
  if (!error) return;
  try {
    group.errors_.push_back(error);
  } catch (...) {
    task.loop().call_exception_handler({"a TaskGroup could not record an error", error, {}});
  }
  if (!group.aborting_ && !group.parent_cancel_requested_ && !group.scheduled()) {
    io::Loop& io = group.parent_.get_loop().io();
    io.start_timer(group, io.now());
  }
}

void TaskGroup::on_first_failure(io::Timer& timer) noexcept {
  auto& group = static_cast<TaskGroup&>(timer);
  if (group.aborting_ || group.parent_cancel_requested_) return;
  group.abort();
  group.parent_cancel_requested_ = true;
  group.parent_.cancel();
}

Task<void> TaskGroup::join(std::exception_ptr body_error) {
  exiting_ = true;
  bool body_cancelled = false;
  if (body_error) {
    try {
      std::rethrow_exception(body_error);
    } catch (const weft::CancelledError&) {
      body_cancelled = true;
    } catch (...) {
    }
  }
  std::exception_ptr propagate_cancel = body_cancelled ? body_error : nullptr;
  if (body_error && !aborting_) abort();
  while (running_ > 0) {
    std::exception_ptr cancelled;
    try {
      co_await completed_.wait();
    } catch (const weft::CancelledError&) {
      cancelled = std::current_exception();
    }
    if (cancelled && !aborting_) {
      propagate_cancel = cancelled;
      abort();
    }
  }
  if (scheduled()) parent_.get_loop().io().cancel_timer(*this);  // every task ended before the abort
  if (parent_cancel_requested_ && parent_.uncancel() == 0) propagate_cancel = nullptr;
  if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
  if (body_error && !body_cancelled) errors_.push_back(body_error);
  if (!errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
}

}  // namespace weft::aio
