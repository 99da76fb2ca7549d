// aio::EventLoop: the ready queue of tasks, their steps, and the run loop
// that alternates batches of tasks with the io::Loop's phases.
#include "weft/aio/event_loop.hpp"

#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <string>

#include "weft/aio/detail/future_core.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/futures/thread_pool_executor.hpp"

namespace weft::aio {

namespace {
thread_local EventLoop* running_loop = nullptr;
thread_local detail::TaskState* running_task = nullptr;
thread_local std::unique_ptr<EventLoop> thread_default_loop;

// A run loop ran while another one waited on this thread: restored at exit.
class RunningScope {
 public:
  explicit RunningScope(EventLoop& loop) : outer_(running_loop) { running_loop = &loop; }
  ~RunningScope() { running_loop = outer_; }

 private:
  EventLoop* outer_;
};

void ignore_timer(io::Timer&) noexcept {}

// pthread_atfork's child handler, run on the thread that forked: the
// child's only thread. Nothing of the parent's asyncio is current there
// any more, as Python's at-fork hook resets the running loop and the
// policy's loop: the loops it inherited (whose kernel objects are the
// parent's) are left behind, leaked and never run, and the child may run
// loops of its own.
void leave_loops_after_fork() noexcept {
  running_loop = nullptr;
  running_task = nullptr;
  (void)thread_default_loop.release();
}
}  // namespace

namespace detail {
TaskState& current_task_state() {
  if (running_task == nullptr) throw RuntimeError("no running task: await this inside a task of a running event loop");
  return *running_task;
}
TaskState* current_task_state_or_null() noexcept { return running_task; }
}  // namespace detail

EventLoop::EventLoop(io::LoopOptions options) : io_(options), keep_alive_timer_(&ignore_timer) {
  static const int registered = ::pthread_atfork(nullptr, nullptr, &leave_loops_after_fork);
  (void)registered;
}

EventLoop::~EventLoop() {
  { const std::lock_guard held(threadsafe_mutex_); }  // a stop() from another thread has let go
  try {
    close();
  } catch (...) {
    default_exception_handler({"an event loop failed to close", std::current_exception(), {}});
  }
  // Tasks close() could not end (an io_uring loop destroyed off its
  // thread, any loop destroyed in a child of fork()) stay pending for good:
  // reported, their frames kept, and cut off from the loop, so that
  // cancelling one later touches nothing gone.
  report_pending_tasks();
  for (detail::TaskState* task = tasks_; task != nullptr; task = task->next_task_) {
    task->loop_ = nullptr;
    task->waiter_ = nullptr;
  }
  for (detail::TaskState* task = finished_; task != nullptr; task = task->next_task_) task->loop_ = nullptr;
  detail::FutureCore::cut_off(futures_);
}

// ---- the task lists ---------------------------------------------------------

void EventLoop::link(detail::TaskState*& list, detail::TaskState& task) noexcept {
  task.prev_task_ = nullptr;
  task.next_task_ = list;
  if (list != nullptr) list->prev_task_ = &task;
  list = &task;
}

void EventLoop::unlink(detail::TaskState*& list, detail::TaskState& task) noexcept {
  if (task.prev_task_ != nullptr) task.prev_task_->next_task_ = task.next_task_;
  else list = task.next_task_;
  if (task.next_task_ != nullptr) task.next_task_->prev_task_ = task.prev_task_;
  task.prev_task_ = task.next_task_ = nullptr;
}

void EventLoop::check_open() const {
  if (closed_) throw RuntimeError("Event loop is closed");
}

void EventLoop::adopt(detail::TaskState& task, std::coroutine_handle<> frame) {
  if (closed_) {
    frame.destroy();
    throw RuntimeError("Event loop is closed");
  }
  task.frame_ = frame;
  task.root_ = true;
  task.resume_ = frame;
  task.loop_ = this;
  task.refs_ = 1;  // the loop's, until the task is done
  link(tasks_, task);
  ++task_count_;
  schedule(task);
}

void EventLoop::forget(detail::TaskState& task) noexcept { unlink(finished_, task); }

std::vector<TaskRef> EventLoop::all_tasks() const {
  std::vector<TaskRef> tasks;
  tasks.reserve(task_count_);
  for (detail::TaskState* task = tasks_; task != nullptr; task = task->next_task_) tasks.emplace_back(*task);
  return tasks;
}

// ---- scheduling -------------------------------------------------------------

void EventLoop::schedule(detail::TaskState& task) noexcept {
  task.waiter_ = nullptr;
  if (task.queued_) return;
  // Woken by a timer or callback of an io iteration that may still poll:
  // that poll must not wait now.
  if (io_may_wait_) io_.dont_wait();
  task.queued_ = true;
  task.next_ready_ = nullptr;
  if (ready_tail_ != nullptr) ready_tail_->next_ready_ = &task;
  else ready_head_ = &task;
  ready_tail_ = &task;
}

void EventLoop::run_batch() {
  detail::TaskState* const last = ready_tail_;
  for (;;) {
    detail::TaskState* task = ready_head_;
    ready_head_ = task->next_ready_;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
    task->queued_ = false;
    const bool was_last = task == last;
    step(*task);
    if (was_last) return;
  }
}

void EventLoop::step(detail::TaskState& task) noexcept {
  if (!task.started_) {
    task.started_ = true;
    if (task.must_cancel_) {  // cancelled before it ran: its body never starts
      task.end_cancelled();
      finish(task);
      return;
    }
  }
  running_task = &task;
  task.resume_.resume();
  running_task = nullptr;
  if (task.frame_.done()) {
    // Cancelled while it ran, then returned before another suspension: it
    // ends cancelled, as in Python (an exception it raised is kept).
    if (task.must_cancel_ && !task.exception_) task.end_cancelled();
    finish(task);
  } else if (task.must_cancel_ && task.waiter_ != nullptr) {
    // Cancelled while it ran: the cancellation reaches the suspension it
    // just entered.
    task.must_cancel_ = false;
    if (!task.waiter_->on_cancel(*task.waiter_, task)) task.must_cancel_ = true;
  }
}

void EventLoop::finish(detail::TaskState& task) noexcept {
  task.done_ = true;
  unlink(tasks_, task);
  --task_count_;
  link(finished_, task);
  while (detail::DoneWaiter* waiter = task.done_waiters_) {
    detail::TaskState::remove_done_waiter(*waiter);
    waiter->on_done(*waiter, task);
  }
  if (task.extras_ && !task.extras_->callbacks.empty()) {
    auto callbacks = std::move(task.extras_->callbacks);
    for (auto& callback : callbacks) {
      try {
        task.schedule_callback(std::move(callback));
      } catch (...) {
        call_exception_handler({"a done callback could not be scheduled", std::current_exception(), TaskRef(task)});
      }
    }
  }
  if (task.exception_ && !task.ended_cancelled_ && task.refs_ == 1 && !task.retrieved_) {
    // Nothing else holds the task: nobody can ever retrieve the exception.
    task.retrieved_ = true;
    call_exception_handler({"Task exception was never retrieved (" + task.get_name() + ")", task.exception_, {}});
  }
  task.release();
}

// ---- running ----------------------------------------------------------------

void EventLoop::run_until(detail::TaskState& task) { run_loop(&task); }

void EventLoop::run_forever() { run_loop(nullptr); }

void EventLoop::stop() noexcept {
  // Under the mutex, which the destructor takes first: once stopping_ is
  // seen the loop may return and be destroyed while another thread is
  // still here.
  const std::lock_guard held(threadsafe_mutex_);
  stopping_.store(true, std::memory_order_seq_cst);
  io_.stop();
}

void EventLoop::check_runnable() const {
  if (closed_) throw RuntimeError("Event loop is closed");
  if (running_) throw RuntimeError("This event loop is already running");
  if (running_loop != nullptr) throw RuntimeError("Cannot run the event loop while another loop is running");
  // Once, before a run: the loop would report the same refusal of every turn.
  io_.check_thread();
}

void EventLoop::run_loop(detail::TaskState* until) {
  check_runnable();
  RunningScope scope(*this);
  running_ = true;
  struct Reset {
    EventLoop& loop;
    ~Reset() {
      loop.running_ = false;
      loop.stopping_.store(false, std::memory_order_relaxed);
    }
  } reset{*this};
  for (;;) {
    if (ready_head_ != nullptr) run_batch();
    if (until != nullptr && until->done_) return;
    if (stopping_.load(std::memory_order_relaxed) && stopping_.exchange(false, std::memory_order_acq_rel)) {
      if (until != nullptr) throw RuntimeError("Event loop stopped before Future completed.");
      return;
    }
    if (ready_head_ == nullptr && until != nullptr && !io_.alive() &&
        external_.load(std::memory_order_acquire) == 0)
      report_deadlock(until);
    // What a callback throws, whatever its type, is reported and the loop
    // goes on, as in Python.
    try {
      if (ready_head_ != nullptr) {
        if (io_.alive()) io_.run(io::RunMode::nowait);
      } else {
        wait_for_work();
      }
    } catch (...) {
      call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
  }
}

void EventLoop::wait_for_work() {
  if (io_.alive()) {
    run_io_once();
    return;
  }
  // Other threads may still call in: wait for them (stop() and
  // call_soon_threadsafe() interrupt the wait).
  io_.start_timer(keep_alive_timer_, io_.now() + std::chrono::hours(1));
  struct Disarm {
    EventLoop& loop;
    ~Disarm() { loop.io_.cancel_timer(loop.keep_alive_timer_); }
  } disarm{*this};
  run_io_once();
}

// One io iteration that may wait for IO, unless a task is woken in it
// (see schedule()).
void EventLoop::run_io_once() {
  io_may_wait_ = true;
  struct Reset {
    bool& may_wait;
    ~Reset() { may_wait = false; }
  } reset{io_may_wait_};
  io_.run(io::RunMode::once);
}

void EventLoop::report_deadlock(detail::TaskState* until) {
  std::string names;
  std::size_t listed = 0;
  for (detail::TaskState* task = tasks_; task != nullptr && listed < 20; task = task->next_task_, ++listed) {
    if (!names.empty()) names += ", ";
    names += task->get_name();
  }
  if (listed < task_count_) names += ", ...";
  throw RuntimeError("the event loop can never finish " + until->get_name() +
                     ": every task waits and nothing can wake one (waiting: " + names + ")");
}

void EventLoop::call_soon_threadsafe(Callback callback) {
  std::lock_guard held(threadsafe_mutex_);
  // Under the lock: a callback close() did not refuse is queued before
  // close() delivers the last ones.
  if (refuses_threadsafe_) throw RuntimeError("Event loop is closed");
  io_.call_soon_threadsafe(std::move(callback));
}

void EventLoop::close() {
  if (running_) throw RuntimeError("Cannot close a running event loop");
  if (closed_) return;
  // An io_uring loop runs only on the thread that first ran it, and no loop
  // in a child of fork(): elsewhere nothing can cancel its tasks or turn it
  // for the last results.
  const bool runs_here = io_.may_run_here();
  if (!runs_here && tasks_ != nullptr) {
    if (io_.in_forked_child())
      throw RuntimeError(
          "an event loop with unfinished tasks cannot be closed in a child of fork(): its IO is the parent's; "
          "close it in the process that made it");
    throw RuntimeError("an io_uring event loop with unfinished tasks can only be closed on the thread that ran it");
  }
  if (runs_here) cancel_remaining();
  {
    std::lock_guard held(threadsafe_mutex_);
    refuses_threadsafe_ = true;
  }
  if (runs_here) deliver_final_results();
  closed_ = true;
  if (default_executor_) default_executor_->shutdown(true);
  if (signal_handlers_) signal_handlers_->clear();
}

// Python's asyncio.run epilogue: cancel every unfinished task and let the
// cancellations run; a task that refuses is reported and abandoned. A round
// waits only for the tasks it cancelled: one created meanwhile (by a
// cancellation handler, by run_coroutine_threadsafe) runs beside them and is
// cancelled by the next round, never waited for uncancelled. A cleanup that
// awaits another thread (to_thread, a wrapped future) is waited for too.
void EventLoop::cancel_remaining() {
  for (int round = 0; tasks_ != nullptr && round < 8; ++round) {
    std::vector<TaskRef> cancelled = all_tasks();
    for (TaskRef& task : cancelled) task.cancel();
    RunningScope scope(*this);
    running_ = true;
    for (std::size_t done = 0;;) {
      while (done < cancelled.size() && cancelled[done].done()) ++done;
      if (done == cancelled.size()) break;
      try {
        if (ready_head_ != nullptr) run_batch();
        else if (io_.alive() || external_.load(std::memory_order_acquire) != 0) wait_for_work();
        else break;
      } catch (...) {
        call_exception_handler({"Exception in callback", std::current_exception(), {}});
      }
    }
    running_ = false;
  }
  report_pending_tasks();
}

void EventLoop::report_pending_tasks() {
  for (detail::TaskState* task = tasks_; task != nullptr; task = task->next_task_)
    call_exception_handler({"Task was destroyed but it is pending! (" + task->get_name() + ")", nullptr, {}});
}

// The ended tasks closed files whose operations report their end (an
// io_uring cancellation, an epoll result queued) only when the loop turns
// again: turn it without waiting, so that whoever owns such an operation
// sees its last result before the loop is gone — as Python's asyncio.run
// lets connection_lost() callbacks run before it closes the loop. A result
// may lead to another step (a send that ends lets its socket close, whose
// receive then ends), hence several turns; they stop as soon as nothing is
// pending, and are bounded for what never ends (a listening socket somebody
// leaked).
void EventLoop::deliver_final_results() {
  RunningScope scope(*this);
  for (int turn = 0; turn < 16 && io_.alive(); ++turn) {
    try {
      io_.run(io::RunMode::nowait);
    } catch (...) {
      call_exception_handler({"Exception in callback", std::current_exception(), {}});
    }
  }
}

// ---- errors -----------------------------------------------------------------

void EventLoop::call_exception_handler(const ExceptionContext& context) {
  if (!exception_handler_) {
    default_exception_handler(context);
    return;
  }
  try {
    exception_handler_(*this, context);
  } catch (...) {
    default_exception_handler({"Unhandled error in exception handler", std::current_exception(), {}});
    default_exception_handler(context);
  }
}

void EventLoop::default_exception_handler(const ExceptionContext& context) {
  std::string text = context.message;
  if (context.task) text += " [" + context.task.get_name() + "]";
  if (context.exception) text += ": " + weft::detail::exception_text(context.exception);
  std::fprintf(stderr, "weft.aio: %s\n", text.c_str());
}

io::BufferPool& EventLoop::receive_buffers() {
  // 1024 buffers of 16 KiB: enough for a poll phase in which a thousand
  // connections receive at once (a receive that finds the pool empty ends
  // with ENOBUFS and is started again).
  if (receive_buffers_ == nullptr) receive_buffers_ = &io_.create_buffer_pool(1024, 16 * 1024);
  return *receive_buffers_;
}

futures::ThreadPoolExecutor& EventLoop::default_executor() {
  if (!default_executor_) default_executor_ = std::make_unique<futures::ThreadPoolExecutor>(0, "asyncio");
  return *default_executor_;
}

// ---- the running loop -------------------------------------------------------

EventLoop& get_running_loop() {
  if (running_loop == nullptr) throw RuntimeError("no running event loop");
  return *running_loop;
}

EventLoop* running_loop_or_null() noexcept { return running_loop; }

EventLoop& get_event_loop() {
  if (running_loop != nullptr) return *running_loop;
  if (!thread_default_loop || thread_default_loop->is_closed()) thread_default_loop = std::make_unique<EventLoop>();
  return *thread_default_loop;
}

TaskRef current_task() {
  detail::TaskState* task = running_task;
  return task != nullptr ? TaskRef(*task) : TaskRef();
}

std::vector<TaskRef> all_tasks() { return get_running_loop().all_tasks(); }
std::vector<TaskRef> all_tasks(EventLoop& loop) { return loop.all_tasks(); }

}  // namespace weft::aio
