// The link through which cancelling the future of run_coroutine_threadsafe()
// reaches the task on its loop.
#include "weft/aio/detail/threadsafe_task.hpp"

#include "weft/aio/event_loop.hpp"

namespace weft::aio::detail {

void ThreadsafeLink::attach(const futures::detail::StateBase& future) {
  task_ = &current_task_state();
  {
    std::lock_guard held(mutex_);
    loop_ = &task_->loop();
  }
  // After publishing the loop: a cancel that came earlier is seen here, one
  // that comes later sees the loop.
  if (future.status() == futures::detail::Status::cancelled) {
    detach();
    throw CancelledError();
  }
}

void ThreadsafeLink::detach() noexcept {
  task_ = nullptr;
  std::lock_guard held(mutex_);
  loop_ = nullptr;
}

void ThreadsafeLink::cancel_task() {
  std::lock_guard held(mutex_);
  // Under the lock: the task cannot end meanwhile, so the loop is there.
  if (loop_ != nullptr) loop_->call_soon_threadsafe([self = shared_from_this()] { self->deliver_cancel(); });
}

void ThreadsafeLink::deliver_cancel() {
  if (task_ != nullptr) task_->cancel();
}

}  // namespace weft::aio::detail
