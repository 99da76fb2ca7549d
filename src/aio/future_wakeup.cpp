// The bridge that carries a concurrent future's completion into the loop of
// the task awaiting it.
#include "weft/aio/detail/future_awaiter.hpp"

namespace weft::aio::detail {

void FutureWakeup::post() {
  std::lock_guard held(mutex_);
  // Under the lock: the awaiter cannot detach, so the loop cannot be gone.
  if (loop_ != nullptr) loop_->call_soon_threadsafe([self = shared_from_this()] { self->deliver(); });
}

void FutureWakeup::detach() noexcept {
  task_ = nullptr;
  std::lock_guard held(mutex_);
  loop_ = nullptr;
}

void FutureWakeup::deliver() noexcept {
  if (TaskState* task = std::exchange(task_, nullptr)) task->wake();
}

}  // namespace weft::aio::detail
