// gather's waits, shared by its variadic and range forms.
#include "weft/aio/gather.hpp"

namespace weft::aio::detail {

void retrieve_all(std::span<TaskState* const> tasks) {
  for (TaskState* task : tasks) {
    if (task->done()) {
      task->take_exception();
    } else {
      task->add_done_callback([](TaskState& done) { done.take_exception(); });
    }
  }
}

Task<void> gather_all(std::span<TaskState* const> tasks) {
  TaskWatch watch(tasks, TaskWatch::Until::first_failure, TaskWatch::OnCancel::cancel_tasks);
  co_await watch;
  if (TaskState* failed = watch.first_failed()) {
    retrieve_all(tasks);
    failed->check_result();
  }
  if (watch.cancel_passed_on()) throw CancelledError(current_task_state().cancel_message());
}

Task<void> gather_outcomes(std::span<TaskState* const> tasks) {
  TaskWatch watch(tasks, TaskWatch::Until::all_completed, TaskWatch::OnCancel::cancel_tasks);
  co_await watch;
  if (watch.cancel_passed_on()) throw CancelledError(current_task_state().cancel_message());
}

}  // namespace weft::aio::detail
