// weft/aio/event_loop.hpp — aio::EventLoop, Python's asyncio event loop, on
// weft's one event-loop core (io::Loop: epoll or io_uring).
//
// A loop runs tasks in batches: the tasks woken before a batch starts run in
// it, those woken meanwhile wait for the next one, after the loop has polled
// for IO and fired due timers — asyncio's scheduling, so that no task can
// starve IO or the others. Waking a task allocates nothing.
//
// One loop per thread: a thread runs at most one loop at a time
// (get_running_loop() finds it), and several threads may each run their own
// side by side. A child of fork(), even one forked from inside a task, has
// no running loop and no default loop of its parent's (Python resets them
// at fork): it runs loops of its own, and those it inherited are never run.
//
// A run that can never finish — every task waits, no timer, IO operation,
// executor job or other thread can wake one — throws RuntimeError naming the
// waiting tasks instead of hanging (DESIGN.md §4), unless the loop was told
// by keep_alive() that another thread will call it.
//
// Thread-safety: a loop belongs to the thread that runs it. From other
// threads only call_soon_threadsafe(), stop() and run_coroutine_threadsafe()
// may be used. The loop may be destroyed as soon as such a call has had its
// effect (the callback ran, run_forever() returned), even while the call is
// still returning: the destructor waits for it to let go. On io_uring, a
// loop belongs for good to the thread that first ran it: running it on
// another thread throws RuntimeError.
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/aio/task.hpp"
#include "weft/detail/unique_function.hpp"
#include "weft/io/loop.hpp"
#include "weft/io/signals.hpp"

namespace weft::futures {
class ThreadPoolExecutor;
}

namespace weft::aio {

template <class T = void>
class Future;
namespace detail {
class FutureCore;
}

// What call_exception_handler() is given (Python's context dict).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;  // may be null
  TaskRef task;                  // the task concerned, if any
};

class EventLoop {
 public:
  using Clock = io::Loop::Clock;
  using Callback = weft::detail::UniqueFunction<void()>;
  using ExceptionHandler = std::function<void(EventLoop&, const ExceptionContext&)>;

  // Throws std::system_error if no IO backend can be set up.
  explicit EventLoop(io::LoopOptions options = {});
  // Closes the loop (see close()). If close() refuses (an io_uring loop
  // with tasks left destroyed off its thread, any loop with tasks left
  // destroyed in a child of fork()), the tasks are reported to
  // the exception handler and stay pending for good: their handles still
  // work (cancel() does nothing more), their coroutine frames are not freed.
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // ---- running -----------------------------------------------------------
  // Schedules `coro` as a task and runs the loop until it is done; returns
  // its value or throws its exception. Blocks. Throws RuntimeError if the
  // loop is already running, is closed, or can never finish the task.
  template <class T>
  T run_until_complete(Task<T> coro) {
    check_runnable();  // refused before the task exists, as in Python
    return run_until_complete(create_task(std::move(coro)));
  }
  template <class T>
  T run_until_complete(TaskHandle<T> task) {
    run_until(task.state());
    if constexpr (std::is_void_v<T>) task.result();
    else return std::move(task.result());
  }
  // Runs until stop(). Blocks.
  void run_forever();
  // Makes run_forever() / run_until_complete() return after the current
  // batch. Thread-safe.
  void stop() noexcept;
  bool is_running() const noexcept { return running_; }
  bool is_closed() const noexcept { return closed_; }
  // Cancels the tasks still unfinished and runs until they are done (or
  // cannot progress); a task created meanwhile (by a cancellation handler,
  // by run_coroutine_threadsafe) is cancelled in its turn, never waited for
  // uncancelled. Then runs the callbacks other threads queued until then
  // (a coroutine of run_coroutine_threadsafe() among them is dropped, which
  // cancels its future), then shuts the default executor down and releases
  // everything. From then on (for call_soon_threadsafe, from the moment the
  // tasks are done) every call that schedules something throws
  // RuntimeError("Event loop is closed"), as in Python. Throws RuntimeError
  // if the loop is running, or if it has unfinished tasks and may not run
  // here: an io_uring loop on a thread other than the one that ran it, any
  // loop in a child of fork() of the process that made it (the message
  // names which; nothing can run the tasks there, and the loop stays open).
  // Idempotent.
  void close();

  // The loop's clock (steady), as of the current batch.
  Clock::time_point time() const noexcept { return io_.now(); }

  // ---- callbacks ---------------------------------------------------------
  // Each throws RuntimeError if the loop is closed (see close()).
  // Runs `callback` in the loop's next iteration. Never blocks.
  void call_soon(Callback callback) {
    check_open();
    io_.call_soon(std::move(callback));
  }
  // The same from any thread; wakes the loop. Thread-safe; never blocks for
  // long (a short mutex).
  void call_soon_threadsafe(Callback callback);
  template <class Rep, class Period>
  io::TimerHandle call_later(std::chrono::duration<Rep, Period> delay, Callback callback) {
    check_open();
    return io_.call_later(delay, std::move(callback));
  }
  io::TimerHandle call_at(Clock::time_point when, Callback callback) {
    check_open();
    return io_.call_at(when, std::move(callback));
  }

  // ---- signals (Unix; see weft/io/signals.hpp) ---------------------------
  // Python's loop.add_signal_handler: runs `callback` in the loop's next
  // iteration (call_soon) each time `sig` arrives, outside signal context;
  // replaces the callback `sig` had on this loop. What the callback throws
  // goes to the exception handler, as for any callback. Throws ValueError
  // for an invalid signal number, RuntimeError if the loop is closed (in
  // that order, as Python), RuntimeError("sig N cannot be caught") for
  // SIGKILL and SIGSTOP (as Python's code does; its docstring says
  // ValueError). Unlike Python, any loop on any thread may have signal
  // handlers, and each loop that handles a signal gets it. While the loop
  // has one, it counts as a source of wake-ups (no deadlock is reported).
  // Never blocks. The loop's thread only.
  void add_signal_handler(int sig, Callback callback);
  // Python's loop.remove_signal_handler: returns false if `sig` had no
  // handler on this loop. The signal's disposition goes back to what it was
  // before weft's first handler for it, once no loop handles it. Throws
  // ValueError for an invalid signal number. close() removes them all.
  // Never blocks. The loop's thread only.
  bool remove_signal_handler(int sig);

  // ---- tasks -------------------------------------------------------------
  // Schedules `coro` to start in the next batch. The loop keeps the task
  // alive until it is done. Throws RuntimeError if the loop is closed.
  template <class T>
  TaskHandle<T> create_task(Task<T> coro) {
    auto frame = coro.release();
    if (!frame) throw ValueError("create_task() of an empty Task");
    adopt(frame.promise(), frame);
    return TaskHandle<T>(frame.promise());
  }
  template <class T>
  TaskHandle<T> create_task(Task<T> coro, std::string name) {
    TaskHandle<T> task = create_task(std::move(coro));
    task.set_name(std::move(name));
    return task;
  }

  // A pending Future<T> of this loop (Python's loop.create_future()); see
  // weft/aio/future.hpp, which defines it. Throws std::bad_alloc.
  template <class T = void>
  Future<T> create_future();

  // ---- errors ------------------------------------------------------------
  // Reports an error no caller could receive (a task exception never
  // retrieved, a done callback that threw). The default handler prints it
  // to stderr.
  void call_exception_handler(const ExceptionContext& context);
  void set_exception_handler(ExceptionHandler handler) { exception_handler_ = std::move(handler); }
  static void default_exception_handler(const ExceptionContext& context);

  // ---- threads -----------------------------------------------------------
  // The executor run_in_executor(nullptr, ...) and to_thread() use: a
  // ThreadPoolExecutor created on first use, shut down by close().
  futures::ThreadPoolExecutor& default_executor();
  // While a token lives, the loop waits for other threads instead of
  // reporting a deadlock when no task can progress. Thread-safe.
  class KeepAlive {
   public:
    explicit KeepAlive(EventLoop& loop) noexcept : loop_(&loop) { loop.external_.fetch_add(1); }
    KeepAlive(KeepAlive&& other) noexcept : loop_(std::exchange(other.loop_, nullptr)) {}
    KeepAlive& operator=(KeepAlive&&) = delete;
    ~KeepAlive() {
      if (loop_) loop_->external_.fetch_sub(1);
    }

   private:
    EventLoop* loop_;
  };
  KeepAlive keep_alive() noexcept { return KeepAlive(*this); }

  // ---- the core underneath -------------------------------------------------
  io::Loop& io() noexcept { return io_; }
  // The receive buffers this loop's streams share for their multishot
  // receives: a BufferPool of io(), created on first use. Throws
  // std::system_error if the kernel refuses it.
  io::BufferPool& receive_buffers();
  // Every unfinished task of this loop.
  std::vector<TaskRef> all_tasks() const;

  // Puts a woken task in the next batch (the suspension protocol, see
  // detail/task_state.hpp).
  void schedule(detail::TaskState& task) noexcept;

 private:
  friend class detail::TaskState;
  friend class detail::FutureCore;
  void check_open() const;
  // Throws RuntimeError if the loop cannot run now, here (see run_forever).
  void check_runnable() const;
  void adopt(detail::TaskState& task, std::coroutine_handle<> frame);
  void run_until(detail::TaskState& task);
  void run_loop(detail::TaskState* until);
  void run_batch();
  void step(detail::TaskState& task) noexcept;
  void finish(detail::TaskState& task) noexcept;
  void wait_for_work();
  void run_io_once();
  [[noreturn]] void report_deadlock(detail::TaskState* until);
  void cancel_remaining();
  void report_pending_tasks();
  void deliver_final_results();
  void forget(detail::TaskState& task) noexcept;
  static void link(detail::TaskState*& list, detail::TaskState& task) noexcept;
  static void unlink(detail::TaskState*& list, detail::TaskState& task) noexcept;

  io::Loop io_;
  detail::TaskState* ready_head_ = nullptr;
  detail::TaskState* ready_tail_ = nullptr;
  detail::TaskState* tasks_ = nullptr;     // unfinished tasks
  detail::TaskState* finished_ = nullptr;  // finished tasks a handle still holds
  detail::FutureCore* futures_ = nullptr;  // this loop's futures, cut off from it when it goes
  std::size_t task_count_ = 0;
  std::atomic<int> external_{0};
  std::atomic<bool> stopping_{false};
  bool running_ = false;
  bool closed_ = false;
  bool io_may_wait_ = false;  // inside an io iteration whose poll may wait
  std::mutex threadsafe_mutex_;
  bool refuses_threadsafe_ = false;  // guarded by threadsafe_mutex_: close() ended the tasks
  io::Timer keep_alive_timer_;
  ExceptionHandler exception_handler_;
  std::unique_ptr<futures::ThreadPoolExecutor> default_executor_;
  io::BufferPool* receive_buffers_ = nullptr;
  std::unique_ptr<io::SignalHandlers> signal_handlers_;  // made on first use; destroyed before io_
};

// The loop running on this thread. Throws RuntimeError if none is.
EventLoop& get_running_loop();
// The same, or nullptr.
EventLoop* running_loop_or_null() noexcept;
// The running loop, or else this thread's default loop, created on first
// use (Python's get_event_loop(), which the seeds use).
EventLoop& get_event_loop();

// Schedules `coro` on the running loop (Python's asyncio.create_task).
// Throws RuntimeError outside a running loop.
template <class T>
TaskHandle<T> create_task(Task<T> coro) {
  return get_running_loop().create_task(std::move(coro));
}
template <class T>
TaskHandle<T> create_task(Task<T> coro, std::string name) {
  return get_running_loop().create_task(std::move(coro), std::move(name));
}

// The task running now, or an empty TaskRef outside any task.
TaskRef current_task();
// The unfinished tasks of the running loop (or of `loop`).
std::vector<TaskRef> all_tasks();
std::vector<TaskRef> all_tasks(EventLoop& loop);

}  // namespace weft::aio
