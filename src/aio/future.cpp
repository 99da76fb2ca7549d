// The state of aio::Future<T> apart from its value: its outcome, done
// callbacks, and the tasks awaiting it.
#include "weft/aio/detail/future_core.hpp"

#include <algorithm>
#include <utility>

#include "call_soon_holding.hpp"
#include "weft/aio/errors.hpp"
#include "weft/aio/event_loop.hpp"

namespace weft::aio::detail {

FutureCore::FutureCore(EventLoop& loop) noexcept : loop_(&loop), next_in_loop_(loop.futures_) {
  if (next_in_loop_ != nullptr) next_in_loop_->prev_in_loop_ = this;
  loop.futures_ = this;
}

FutureCore::~FutureCore() {
  if (exception_ && !retrieved_) {
    ExceptionContext context{"Future exception was never retrieved", exception_, {}};
    // The loop's handler only on the loop's thread, while it runs.
    if (loop_ != nullptr && running_loop_or_null() == loop_) loop_->call_exception_handler(context);
    else EventLoop::default_exception_handler(context);
  }
  if (loop_ == nullptr) return;
  if (prev_in_loop_ != nullptr) prev_in_loop_->next_in_loop_ = next_in_loop_;
  else loop_->futures_ = next_in_loop_;
  if (next_in_loop_ != nullptr) next_in_loop_->prev_in_loop_ = prev_in_loop_;
}

void FutureCore::cut_off(FutureCore* first) noexcept {
  while (FutureCore* future = first) {
    first = future->next_in_loop_;
    future->loop_ = nullptr;
    future->prev_in_loop_ = future->next_in_loop_ = nullptr;
  }
}

void FutureCore::check_pending() const {
  if (state_ != State::pending) throw InvalidStateError("invalid state");
}

bool FutureCore::cancel(std::string message) {
  if (state_ != State::pending) return false;
  cancel_message_ = std::move(message);
  complete(State::cancelled);
  return true;
}

void FutureCore::set_exception(std::exception_ptr exception) {
  check_pending();
  if (!exception) throw TypeError("set_exception() of a null exception_ptr");
  exception_ = std::move(exception);
  complete(State::finished);
}

void FutureCore::set_value_stored() { complete(State::finished); }

void FutureCore::check_result() {
  if (state_ == State::pending) throw InvalidStateError("Result is not set.");
  if (state_ == State::cancelled) throw CancelledError(cancel_message_);
  retrieved_ = true;
  if (exception_) std::rethrow_exception(exception_);
}

std::exception_ptr FutureCore::exception() {
  if (state_ == State::pending) throw InvalidStateError("Exception is not set.");
  if (state_ == State::cancelled) throw CancelledError(cancel_message_);
  retrieved_ = true;
  return exception_;
}

FutureCore::CallbackId FutureCore::add_done_callback(weft::detail::UniqueFunction<void(FutureCore&)> callback) {
  const CallbackId id = next_callback_id_++;
  if (done()) schedule_callback(std::move(callback));
  else callbacks_.push_back({id, std::move(callback)});
  return id;
}

std::size_t FutureCore::remove_done_callback(CallbackId id) noexcept {
  return std::erase_if(callbacks_, [id](const Callback& callback) { return callback.id == id; });
}

void FutureCore::complete(State state) {
  state_ = state;
  while (FutureWait* wait = waits_) {
    unlink(*wait);
    wait->waiting_->wake();
  }
  auto callbacks = std::move(callbacks_);
  for (Callback& callback : callbacks) {
    try {
      schedule_callback(std::move(callback.function));
    } catch (...) {
      // Python's call_soon raises once the loop is closed; the future is
      // done all the same.
      if (loop_ == nullptr) throw;
      loop_->call_exception_handler({"a done callback could not be scheduled", std::current_exception(), {}});
    }
  }
}

// Runs callback(*this) in the loop's next iteration, holding a reference
// to the future until then.
void FutureCore::schedule_callback(weft::detail::UniqueFunction<void(FutureCore&)> callback) {
  if (loop_ == nullptr) throw RuntimeError("Event loop is closed");
  call_soon_holding(*loop_, *this, std::move(callback));
}

// Awaiting tasks are woken in the order they began to wait.
void FutureCore::link(FutureWait& wait) noexcept {
  wait.prev_ = waits_tail_;
  wait.next_ = nullptr;
  if (waits_tail_ != nullptr) waits_tail_->next_ = &wait;
  else waits_ = &wait;
  waits_tail_ = &wait;
  wait.linked_ = true;
}

void FutureCore::unlink(FutureWait& wait) noexcept {
  if (!wait.linked_) return;
  if (wait.prev_ != nullptr) wait.prev_->next_ = wait.next_;
  else waits_ = wait.next_;
  if (wait.next_ != nullptr) wait.next_->prev_ = wait.prev_;
  else waits_tail_ = wait.prev_;
  wait.prev_ = wait.next_ = nullptr;
  wait.linked_ = false;
}

// ---- awaiting -----------------------------------------------------------------

FutureWait::~FutureWait() { future_.unlink(*this); }

bool FutureWait::await_ready() const noexcept { return future_.done(); }

void FutureWait::await_suspend(std::coroutine_handle<> awaiting) {
  TaskState& task = current_task_state();
  if (&task.loop() != future_.loop_)
    throw RuntimeError("Task " + task.get_name() + " got a Future attached to a different loop");
  waiting_ = &task;
  future_.link(*this);
  task.suspend(awaiting, this);
}

void FutureWait::await_resume() {
  if (waiting_ != nullptr) {
    // Python's Task.__wakeup takes the future's result before the task
    // sees a cancellation that came in the same batch.
    if (future_.done()) future_.retrieved_ = true;
    waiting_->throw_if_cancelled();
  }
  future_.check_result();
}

bool FutureWait::on_cancel(Suspension& self, TaskState& waiting) noexcept {
  // Python: cancelling a task that awaits a future cancels the future,
  // whose end then wakes the task with its CancelledError. A future already
  // done leaves the cancellation to the task's next suspension point.
  return static_cast<FutureWait&>(self).future_.cancel(waiting.cancel_message());
}

}  // namespace weft::aio::detail
