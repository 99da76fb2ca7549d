// The state of a scheduled task: cancellation, outcome, done waiters and
// callbacks, and the coroutine-frame allocator with its live count.
#include "weft/aio/detail/task_state.hpp"

#include <atomic>
#include <new>
#include <typeinfo>

#include "call_soon_holding.hpp"
#include "weft/aio/errors.hpp"
#include "weft/aio/event_loop.hpp"

namespace weft::aio::detail {

namespace {
// Frames are counted per thread (no atomic on the hot path); a thread's
// count joins the process-wide one when the thread ends. A frame freed on
// another thread than the one that made it balances out in the sum.
std::atomic<long> frames_of_ended_threads{0};
struct ThreadFrameCount {
  long alive = 0;
  ~ThreadFrameCount() { frames_of_ended_threads.fetch_add(alive, std::memory_order_relaxed); }
};
thread_local ThreadFrameCount frames;
std::atomic<std::uint64_t> task_counter{0};
}  // namespace

long live_frames() noexcept { return frames_of_ended_threads.load(std::memory_order_relaxed) + frames.alive; }

void* allocate_frame(std::size_t size) {
  void* frame = ::operator new(size);
  ++frames.alive;
  return frame;
}

void free_frame(void* frame, std::size_t size) noexcept {
  --frames.alive;
  ::operator delete(frame, size);
}

TaskState::Extras& TaskState::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

void TaskState::wake() noexcept {
  // A task its loop abandoned (see ~EventLoop) may still be linked where it
  // waited: waking it there does nothing.
  if (loop_ != nullptr) loop_->schedule(*this);
}

void TaskState::throw_cancelled() {
  must_cancel_ = false;
  woken_cancelled_ = false;
  throw CancelledError(cancel_message());
}

bool TaskState::cancel(std::string message) {
  if (done_) return false;
  if (cancel_requests_ < max_cancel_requests) ++cancel_requests_;
  if (!message.empty() || extras_) extras().cancel_message = std::move(message);
  if (waiter_ != nullptr && !in_cancel_) {
    // A cycle of tasks awaiting each other passes the cancellation round
    // once; the task it comes back to takes it at its resume.
    in_cancel_ = true;
    const bool taken = waiter_->on_cancel(*waiter_, *this);
    in_cancel_ = false;
    if (taken) return true;
  }
  must_cancel_ = true;
  return true;
}

int TaskState::uncancel() noexcept {
  if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
  return cancel_requests_;
}

std::string TaskState::get_name() {
  if (extras_ && !extras_->name.empty()) return extras_->name;
  return "Task-" + std::to_string(task_number());
}

std::uint64_t TaskState::task_number() {
  Extras& more = extras();
  if (more.id == 0) more.id = task_counter.fetch_add(1, std::memory_order_relaxed) + 1;
  return more.id;
}

void TaskState::set_name(std::string name) { extras().name = std::move(name); }

const std::string& TaskState::cancel_message() const noexcept {
  static const std::string none;
  return extras_ ? extras_->cancel_message : none;
}

void TaskState::check_result() {
  if (!done_) throw InvalidStateError("Result is not set.");
  retrieved_ = true;
  if (exception_) std::rethrow_exception(exception_);
}

void TaskState::record_exception(std::exception_ptr exception) noexcept {
  exception_ = std::move(exception);
  // Cancellations are the common case (every cancelled task ends with one):
  // tell them by their exact type without the cost of a rethrow.
  const std::type_info* type = exception_.__cxa_exception_type();
  if (type != nullptr && (*type == typeid(CancelledError) || *type == typeid(weft::CancelledError))) {
    ended_cancelled_ = true;
    return;
  }
  try {
    std::rethrow_exception(exception_);
  } catch (const weft::CancelledError&) {
    ended_cancelled_ = true;
  } catch (...) {
  }
}

void TaskState::end_cancelled() noexcept {
  must_cancel_ = false;
  record_exception(std::make_exception_ptr(CancelledError(cancel_message())));
}

void TaskState::add_done_callback(weft::detail::UniqueFunction<void(TaskState&)> callback) {
  if (done_) schedule_callback(std::move(callback));
  else extras().callbacks.push_back(std::move(callback));
}

void TaskState::schedule_callback(weft::detail::UniqueFunction<void(TaskState&)> callback) {
  call_soon_holding(*loop_, *this, std::move(callback));
}

void TaskState::add_done_waiter(DoneWaiter& waiter) noexcept {
  waiter.linked_to = this;
  waiter.prev = nullptr;
  waiter.next = done_waiters_;
  if (done_waiters_ != nullptr) done_waiters_->prev = &waiter;
  done_waiters_ = &waiter;
}

void TaskState::remove_done_waiter(DoneWaiter& waiter) noexcept {
  TaskState* task = waiter.linked_to;
  if (task == nullptr) return;
  if (waiter.prev != nullptr) waiter.prev->next = waiter.next;
  else task->done_waiters_ = waiter.next;
  if (waiter.next != nullptr) waiter.next->prev = waiter.prev;
  waiter.prev = waiter.next = nullptr;
  waiter.linked_to = nullptr;
}

void TaskState::destroy() noexcept {
  if (exception_ && !retrieved_ && !ended_cancelled_) {
    ExceptionContext context{"Task exception was never retrieved (" + get_name() + ")", exception_, {}};
    if (loop_ != nullptr) loop_->call_exception_handler(context);
    else EventLoop::default_exception_handler(context);
  }
  if (loop_ != nullptr) loop_->forget(*this);
  frame_.destroy();
}

}  // namespace weft::aio::detail
