// weft/io/loop.hpp — io::Loop, the one event-loop core under weft's
// greenlets, asyncio and IO-model servers.
//
// A Loop runs on one thread and does three kinds of work, in named phases
// per iteration (libuv's uv_run is the model):
//
//   1. timers   — Timer handlers and call_later callbacks that are due;
//   2. pending  — call_soon callbacks queued before the phase began (those
//                 they queue wait for the next iteration, as in asyncio),
//                 then callbacks that other threads passed in with
//                 call_soon_threadsafe, then operations that finished
//                 without waiting (a send that went straight out);
//   3. poll     — waits for IO no longer than until the next timer (not at
//                 all if callbacks are pending), and runs the handler of
//                 every operation that completed; timers that fell due
//                 while it waited then run at once, as in libuv.
//
// IO is completion-based (a proactor): start an Operation — accept, connect,
// recv, send, their multishot forms, or a readiness watch — and its handler
// runs with the result. Two backends carry it out behind this interface:
//
//   Backend::io_uring  submits the operations to the kernel (liburing),
//                      batched, with multishot accept/receive and provided
//                      buffers; one system call per iteration however many
//                      connections are busy.
//   Backend::epoll     waits for readiness (level-triggered epoll, interest
//                      changed only when it must) and then performs the
//                      system call itself, speculatively for sends.
//
// Backend::automatic picks io_uring when the kernel has it (and it is not
// forbidden by io_uring_disabled, seccomp or WEFT_IO_URING=0), else epoll;
// asking for io_uring where it is missing falls back to epoll too, and
// backend() says which one runs.
//
// The epoll backend receives and sends with MSG_DONTWAIT, and switches the
// fds it accepts on or connects to non-blocking mode; accepted fds are
// non-blocking and close-on-exec on both backends. Close an fd the loop has
// seen with Loop::close(fd), which first cancels its operations (an io_uring
// operation holds the file open until it ends; epoll forgets a closed fd
// silently), as asyncio unregisters a socket from its selector first.
//
// Thread-safety: a Loop belongs to the thread that runs it. Only
// call_soon_threadsafe() and stop() may be called from other threads. Such
// a call may still be returning when its effect shows on the loop's thread:
// the loop may be destroyed as soon as the callback has run, or run() or
// run_forever() has returned after the stop() (the destructor waits for the
// call to let go of the loop). A call must not begin once the destructor
// may have begun: the caller keeps the loop alive until then.
// A Loop may be made on one thread and run on another. An epoll loop may
// later run on yet another thread (not while it runs); an io_uring loop
// runs on the thread that first ran it — or, before that, made a buffer
// pool through it or started more operations than its submission queue
// holds (closing an fd does not count) — for its ring is tied to that thread
// (single issuer, a registered ring fd): run() and run_forever() on any
// other thread throw RuntimeError.
// Process-safety: a child of fork() makes a Loop of its own; in the child,
// the inherited one (whose epoll instance or ring the parent shares) throws
// RuntimeError on run() or a new operation, and its close(fd) and
// destructor leave the parent's alone.
// Exceptions: a callback that throws propagates out of run(); the loop is
// left consistent and may be run again.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/unique_function.hpp"
#include "weft/io/buffer_pool.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/timer.hpp"

namespace weft::io {

namespace detail {
class Backend;
class TimerHeap;
struct CallbackTimer;
struct OwnedOperation;
}  // namespace detail

enum class Backend { automatic, epoll, io_uring };

std::string_view to_string(Backend backend) noexcept;

struct LoopOptions {
  Backend backend = Backend::automatic;
  // Submission queue entries of the io_uring backend (the completion queue
  // gets four times as many).
  unsigned uring_entries = 1024;
  // io_uring only, on kernels with minimum-wait batching (6.12+): a poll
  // phase that waits for IO waits up to `batch_wait` for `batch`
  // completions before it takes whatever has arrived — fewer wake-ups per
  // request under load, for at most batch_wait more latency. Zero: return
  // at the first completion.
  unsigned batch = 1;
  std::chrono::microseconds batch_wait{0};
};

enum class RunMode {
  until_idle,  // iterate while the loop has work (libuv's UV_RUN_DEFAULT)
  once,        // one iteration, waiting for IO if nothing else is ready
  nowait,      // one iteration that never waits
};

// A call_later/call_at callback that may still be cancelled. Copyable;
// cancelling after the callback ran (or twice) does nothing.
class TimerHandle {
 public:
  TimerHandle() = default;
  void cancel() noexcept;
  bool cancelled() const noexcept;
  Timer::Clock::time_point when() const noexcept;

 private:
  friend class Loop;
  explicit TimerHandle(std::shared_ptr<detail::CallbackTimer> timer) : timer_(std::move(timer)) {}
  std::shared_ptr<detail::CallbackTimer> timer_;
};

class Loop {
 public:
  using Clock = Timer::Clock;
  using Callback = weft::detail::UniqueFunction<void()>;

  // Throws std::system_error if neither backend can be set up.
  explicit Loop(LoopOptions options = {});
  // Callback-owned operations and timers still pending are released, and
  // every callback not run is destroyed (while the loop can still serve
  // what its captures' destructors ask of it); the handlers of caller-owned
  // operations are not called. A TimerHandle may outlive the loop. On io_uring, the
  // kernel's teardown of the ring sends the thread that ran the loop task
  // work, which ends that thread's blocking system call of the next few
  // milliseconds with EINTR if the call has a timeout (an accept under
  // SO_RCVTIMEO, epoll_wait), as a signal would: retry on EINTR, as Python
  // does.
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Backend backend() const noexcept { return kind_; }
  // Whether this kernel lets weft use io_uring (checked once per process).
  static bool io_uring_available() noexcept;

  // ---- running -----------------------------------------------------------
  // Runs iterations as `mode` says; returns whether work remains (pending
  // operations, timers, callbacks). Blocks in the poll phase. Throws what a
  // callback throws, and RuntimeError if the loop is already running —
  // called from one of its callbacks or on another thread — leaving the
  // running loop alone, as asyncio does, or may not run here (see
  // may_run_here()).
  bool run(RunMode mode = RunMode::until_idle);
  // Whether the loop may run on the calling thread: not in a child of
  // fork() (in_forked_child()), and an io_uring loop only on its own thread
  // (see the top of this file). Never blocks, never throws.
  bool may_run_here() const noexcept;
  // Whether this process is a child of fork() of the one that made the
  // loop, where the loop may neither run nor start operations. Never
  // blocks, never throws.
  bool in_forked_child() const noexcept;
  // Throws the RuntimeError run() would throw when the loop may not run on
  // the calling thread (may_run_here()), naming the fork or the thread;
  // does nothing otherwise. Never blocks.
  void check_thread() const;
  // Iterates until stop(), even while there is no work (asyncio's
  // run_forever). Blocks. Runs one iteration at least: after a stop() that
  // came before it, it polls without waiting, runs the callbacks already
  // scheduled and returns, as asyncio does. Throws as run() does.
  void run_forever();
  // Makes run()/run_forever() return after the current iteration (the next
  // one, if none is running). Thread-safe (see the top of this file); wakes
  // the loop if it is waiting.
  void stop() noexcept;
  // Whether the loop has work: pending operations, timers or callbacks.
  bool alive() const noexcept;
  // Keeps the poll phase of the current iteration from waiting: work
  // arrived, outside the loop's own queues, that must run first (a task
  // woken by a timer). Loop's thread only; costs no system call.
  void dont_wait() noexcept { dont_wait_ = true; }

  // The time at the start of the current iteration (cheap; what timers are
  // measured against). update_time() refreshes it.
  Clock::time_point now() const noexcept { return now_; }
  void update_time() noexcept { now_ = Clock::now(); }

  // ---- callbacks and timers ---------------------------------------------
  // Runs `callback` in the next pending phase. Never blocks.
  void call_soon(Callback callback);
  // The same from any thread: wakes the loop. Thread-safe (see the top of
  // this file: `callback` may destroy the loop, or let its thread do it);
  // never blocks for long (a short mutex).
  void call_soon_threadsafe(Callback callback);
  // Runs `callback` once `delay` has passed / at `when`. Never blocks. A
  // delay too long for the clock (hours::max(), centuries) never comes due;
  // a NaN one throws ValueError.
  template <class Rep, class Period>
  TimerHandle call_later(std::chrono::duration<Rep, Period> delay, Callback callback) {
    const Clock::duration wait = weft::detail::ceil_nanoseconds_saturated(delay);
    return call_at(now_ + std::clamp(wait, Clock::time_point{} - now_, Clock::time_point::max() - now_),
                   std::move(callback));
  }
  TimerHandle call_at(Clock::time_point when, Callback callback);
  // Arms a caller-owned timer (re-arms it if already scheduled).
  void start_timer(Timer& timer, Clock::time_point when) noexcept;
  // Disarms it; nothing happens if it is not scheduled.
  void cancel_timer(Timer& timer) noexcept;

  // ---- operations (caller-owned; see operation.hpp) ----------------------
  // Each starts `op`, which must not be pending; its handler runs on this
  // loop's thread. They never block and allocate nothing (io_uring may flush
  // a full submission queue: one system call).
  void accept(Operation& op, int listen_fd);
  void accept_multishot(Operation& op, int listen_fd);
  void connect(Operation& op, int fd, const sockaddr* address, socklen_t length);
  void recv(Operation& op, int fd, std::span<std::byte> into);
  void recv_multishot(Operation& op, int fd, BufferPool& pool);
  // `flags` go to send(2) with MSG_NOSIGNAL. With MSG_DONTWAIT the send
  // does not wait for room in the socket's buffer: it ends with -EAGAIN if
  // none of the bytes fit (and, as any send, may move fewer than asked).
  void send(Operation& op, int fd, std::span<const std::byte> bytes, int flags = 0);
  // Reports readiness of fd for `events` (EPOLLIN, EPOLLOUT) with kMore each
  // time it holds at the start of a poll phase, until cancelled.
  void watch(Operation& op, int fd, std::uint32_t events);
  // Ends a pending operation: its handler is called once more without kMore,
  // with -ECANCELED unless it completed first (a multishot operation first
  // reports what the kernel had already received: see operation.hpp). Never
  // blocks. Nothing happens if `op` is not pending.
  void cancel(Operation& op) noexcept;
  // Cancels every pending operation on fd (and its reader/writer
  // callbacks), then closes fd. The file goes at once (a socket's peer
  // sees the close) even if the loop never runs again — but for an io_uring
  // loop closing off its thread, where the operations keep the file open
  // until the loop's next turn on its thread or its destruction. Never
  // blocks, never throws.
  void close(int fd) noexcept;

  // ---- readiness callbacks (asyncio's add_reader/add_writer) -------------
  // `callback` runs in each poll phase while fd is readable (writable); one
  // per fd and direction, a second call replaces it. remove_* return whether
  // one was registered.
  void add_reader(int fd, Callback callback);
  bool remove_reader(int fd) noexcept;
  void add_writer(int fd, Callback callback);
  bool remove_writer(int fd) noexcept;

  // A pool of `count` buffers of `size` bytes for recv_multishot, owned by
  // the loop. Throws ValueError unless 1 <= count <= kMaxPoolBuffers and
  // size > 0, std::system_error if the kernel refuses it.
  static constexpr std::uint16_t kMaxPoolBuffers = 32768;  // io_uring's limit, on every backend
  BufferPool& create_buffer_pool(std::uint16_t count, std::uint32_t size);

 private:
  friend class TimerHandle;
  friend struct detail::OwnedOperation;
  class Running;

  // One pass through the phases; the poll phase waits only if may_wait,
  // and with nothing pending only if wait_when_idle (run_forever).
  bool iterate(bool may_wait, bool wait_when_idle);
  void run_timers();
  void run_pending();
  void poll(bool may_wait);
  void start(Operation& op);
  void rethrow_pending_exception();
  // From a thread not running the loop, with `lock` on threadsafe_mutex_
  // (it may release it).
  void wake_if_sleeping(std::unique_lock<std::mutex>& lock) noexcept;
  void add_watch_callback(int fd, std::uint32_t events, Callback callback,
                          std::unordered_map<int, detail::OwnedOperation*>& table);
  bool remove_watch_callback(int fd, std::unordered_map<int, detail::OwnedOperation*>& table) noexcept;

  std::unique_ptr<detail::Backend> backend_;
  Backend kind_;
  Clock::time_point now_;
  std::unique_ptr<detail::TimerHeap> timers_;
  std::vector<Callback> ready_;
  std::vector<Callback> running_;  // the batch the pending phase runs (its storage is reused)
  std::unordered_map<int, detail::OwnedOperation*> readers_;
  std::unordered_map<int, detail::OwnedOperation*> writers_;
  std::vector<std::unique_ptr<BufferPool>> pools_;
  detail::OwnedOperation* owned_ = nullptr;  // callback operations, freed with the loop
  std::exception_ptr callback_exception_;    // thrown by a callback run inside the poll phase

  std::mutex threadsafe_mutex_;  // held by other threads while they touch the loop (but for waking_)
  std::vector<Callback> threadsafe_;
  std::atomic<bool> has_threadsafe_{false};
  std::atomic<bool> sleeping_{false};  // the backend may be waiting: wake it to stop or to run callbacks
  std::atomic<int> waking_{0};          // threads waking the backend after releasing threadsafe_mutex_
  std::atomic<bool> stop_{false};
  bool dont_wait_ = false;  // set by dont_wait(), cleared as each iteration starts
  std::atomic<bool> in_run_{false};  // inside run() or run_forever(), on any thread
};

}  // namespace weft::io
