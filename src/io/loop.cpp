// src/io/loop.cpp — io::Loop: the phases of an iteration, timers, callbacks
// and the choice of backend. The backends (epoll_backend.cpp,
// uring_backend.cpp) carry out the operations.
#include "weft/io/loop.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <thread>
#include <utility>

#include "backend.hpp"
#include "timer_heap.hpp"
#include "weft/errors.hpp"

namespace weft::io {
namespace {

// The loop that run() or run_forever() is running on this thread: it is
// not waiting for IO while anything else on this thread runs (its wait has
// returned even while its sleeping_ flag is still up), so it needs no
// waking, and nothing can destroy it meanwhile.
thread_local const Loop* running_here = nullptr;

}  // namespace

// Held by run() and run_forever() while they run.
class Loop::Running {
 public:
  explicit Running(Loop& loop) : loop_(loop) {
    if (loop.in_run_.exchange(true, std::memory_order_acquire))
      throw RuntimeError("This event loop is already running");
    try {
      loop.check_thread();
    } catch (...) {
      loop.in_run_.store(false, std::memory_order_release);
      throw;
    }
    outer_ = std::exchange(running_here, &loop);
  }
  // A stop() is for the run it ends, even when a callback's exception ends
  // it first (asyncio clears its flag in a finally).
  ~Running() {
    loop_.stop_.store(false, std::memory_order_relaxed);
    running_here = outer_;
    loop_.in_run_.store(false, std::memory_order_release);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  Loop& loop_;
  const Loop* outer_;
};

namespace detail {

// A call_later/call_at timer: the loop keeps it alive while it is scheduled.
struct CallbackTimer final : Timer {
  CallbackTimer(Loop& loop, Loop::Callback callback)
      : Timer(&never_called), loop(&loop), callback(std::move(callback)) {}
  static void never_called(Timer&) noexcept {}

  Loop* loop;
  Loop::Callback callback;
  std::shared_ptr<CallbackTimer> keep_alive;
  bool cancelled = false;
};

// A watch the loop allocated for add_reader/add_writer; freed after its
// final result.
struct OwnedOperation final : Operation {
  OwnedOperation(Loop& loop, Loop::Callback callback)
      : Operation(&on_result), loop(&loop), callback(std::move(callback)) {}

  static void on_result(Operation& op, int result, std::uint32_t flags) noexcept {
    auto& self = static_cast<OwnedOperation&>(op);
    if ((flags & kMore) == 0) {
      self.unlink();
      delete &self;
      return;
    }
    if (result < 0 || self.loop->callback_exception_) return;
    // Run from here, not in place: the callback may replace itself
    // (add_reader on its own descriptor), which would destroy it mid-call.
    Loop::Callback callback = std::move(self.callback);
    try {
      callback();
    } catch (...) {
      self.loop->callback_exception_ = std::current_exception();
    }
    if (!self.callback) self.callback = std::move(callback);
  }

  void link() noexcept {
    next_owned = loop->owned_;
    if (next_owned != nullptr) next_owned->previous_owned = this;
    loop->owned_ = this;
  }
  void unlink() noexcept {
    if (previous_owned != nullptr) previous_owned->next_owned = next_owned;
    else loop->owned_ = next_owned;
    if (next_owned != nullptr) next_owned->previous_owned = previous_owned;
  }

  Loop* loop;
  Loop::Callback callback;
  OwnedOperation* previous_owned = nullptr;
  OwnedOperation* next_owned = nullptr;
};

}  // namespace detail

std::string_view to_string(Backend backend) noexcept {
  switch (backend) {
    case Backend::automatic: return "automatic";
    case Backend::epoll: return "epoll";
    case Backend::io_uring: return "io_uring";
  }
  return "unknown";
}

// ---- TimerHandle ------------------------------------------------------------

void TimerHandle::cancel() noexcept {
  if (!timer_ || timer_->cancelled) return;
  timer_->cancelled = true;
  timer_->callback = {};
  if (timer_->scheduled()) {
    auto keep = std::move(timer_->keep_alive);
    timer_->loop->cancel_timer(*timer_);
  }
}

bool TimerHandle::cancelled() const noexcept { return timer_ && timer_->cancelled; }

Timer::Clock::time_point TimerHandle::when() const noexcept {
  return timer_ ? timer_->when() : Timer::Clock::time_point{};
}

// ---- construction -----------------------------------------------------------

bool Loop::io_uring_available() noexcept { return detail::uring_usable(); }

Loop::Loop(LoopOptions options)
    : now_(Clock::now()), timers_(std::make_unique<detail::TimerHeap>()) {
  if (options.backend != Backend::epoll) backend_ = detail::make_uring_backend(options.uring_entries, options.batch, options.batch_wait);
  kind_ = backend_ ? Backend::io_uring : Backend::epoll;
  if (!backend_) backend_ = detail::make_epoll_backend();
}

Loop::~Loop() {
  // Wait for a thread still inside call_soon_threadsafe() or stop() (what it
  // queued or stopped may be what let this loop be destroyed): it holds the
  // mutex, then counts itself in waking_ while it wakes the backend.
  { const std::lock_guard lock(threadsafe_mutex_); }
  while (waking_.load(std::memory_order_acquire) != 0) std::this_thread::yield();
  // Every callback — timers', pending ones, watches' — goes while the
  // backend still serves what its captures' destructors may ask (closing a
  // descriptor, removing a watch), and so do those that such destructors
  // queue; the operations themselves once the backend is gone.
  for (bool dropped = true; dropped;) {
    dropped = false;
    while (Timer* timer = timers_->pop()) {
      if (!timer->owned_) continue;
      auto* owned = static_cast<detail::CallbackTimer*>(timer);
      const auto keep = std::move(owned->keep_alive);
      owned->cancelled = true;  // a TimerHandle that outlives the loop finds nothing to cancel
      const Callback callback = std::move(owned->callback);
      dropped = true;
    }
    for (std::vector<Callback>* queue : {&ready_, &running_, &threadsafe_}) {
      const std::vector<Callback> callbacks = std::exchange(*queue, {});
      dropped = dropped || !callbacks.empty();
    }
    for (detail::OwnedOperation* op = owned_; op != nullptr; op = op->next_owned) {
      const Callback callback = std::move(op->callback);
      dropped = dropped || static_cast<bool>(callback);
    }
  }
  pools_.clear();
  backend_.reset();
  while (owned_ != nullptr) {
    detail::OwnedOperation* op = owned_;
    owned_ = op->next_owned;
    delete op;
  }
}

// ---- running ----------------------------------------------------------------

bool Loop::alive() const noexcept {
  return backend_->pending() > 0 || !timers_->empty() || !ready_.empty() || backend_->has_ready() ||
         has_threadsafe_.load(std::memory_order_relaxed);
}

bool Loop::may_run_here() const noexcept { return !in_forked_child() && backend_->runs_on_this_thread(); }

bool Loop::in_forked_child() const noexcept { return backend_->in_forked_child(); }

void Loop::check_thread() const {
  if (may_run_here()) return;
  if (in_forked_child()) detail::throw_in_forked_child();
  throw RuntimeError(
      "io::Loop run on a thread other than the one that first ran it: an io_uring loop runs on the thread "
      "that first ran it (epoll loops may move between threads)");
}

bool Loop::run(RunMode mode) {
  const Running running(*this);
  bool more;
  do more = iterate(mode != RunMode::nowait, false);
  while (mode == RunMode::until_idle && more && !stop_.load(std::memory_order_relaxed));
  return more;
}

void Loop::run_forever() {
  const Running running(*this);
  // At least one iteration, as in asyncio: after stop() it polls without
  // waiting and runs the callbacks already scheduled.
  do iterate(true, true);
  while (!stop_.load(std::memory_order_relaxed));
}

void Loop::stop() noexcept {
  if (running_here == this) {
    stop_.store(true, std::memory_order_relaxed);
    return;
  }
  // Under the mutex: once stop_ is seen the loop may be destroyed, and its
  // destructor waits for the mutex.
  std::unique_lock lock(threadsafe_mutex_);
  stop_.store(true, std::memory_order_seq_cst);
  wake_if_sleeping(lock);
}

void Loop::wake_if_sleeping(std::unique_lock<std::mutex>& lock) noexcept {
  if (!sleeping_.exchange(false, std::memory_order_seq_cst)) return;
  // The system call outside the mutex, which the woken loop is about to
  // take; waking_ keeps the destructor waiting until it is made.
  waking_.fetch_add(1, std::memory_order_relaxed);
  lock.unlock();
  backend_->wake();
  waking_.fetch_sub(1, std::memory_order_release);
}

bool Loop::iterate(bool may_wait, bool wait_when_idle) {
  dont_wait_ = false;
  update_time();
  run_timers();
  run_pending();
  poll(may_wait && (wait_when_idle || alive()));
  update_time();
  run_timers();
  return alive();
}

void Loop::run_timers() {
  // Only the timers due when the phase began: one that a timer's handler
  // arms for now (call_later(0) from its own callback) waits for the next
  // iteration, as in asyncio and libuv, so that it cannot keep the loop
  // from polling.
  const std::uint64_t armed_before = timers_->next_sequence();
  while (Timer* timer = timers_->top()) {
    if (timer->when_ > now_ || timer->sequence_ >= armed_before) return;
    timers_->pop();
    if (!timer->owned_) {
      timer->handler_(*timer);
      continue;
    }
    auto* owned = static_cast<detail::CallbackTimer*>(timer);
    auto keep = std::move(owned->keep_alive);
    Callback callback = std::move(owned->callback);
    owned->cancelled = true;  // ran: cancelling it now does nothing
    callback();
  }
}

void Loop::run_pending() {
  running_.swap(ready_);
  std::size_t next = 0;
  try {
    for (; next < running_.size(); ++next) running_[next]();
  } catch (...) {
    // Keep what did not run yet, ahead of what the callbacks queued.
    ready_.insert(ready_.begin(), std::make_move_iterator(running_.begin() + static_cast<std::ptrdiff_t>(next) + 1),
                  std::make_move_iterator(running_.end()));
    running_.clear();
    throw;
  }
  running_.clear();

  if (has_threadsafe_.load(std::memory_order_acquire)) {
    std::vector<Callback> batch;
    {
      std::lock_guard lock(threadsafe_mutex_);
      batch.swap(threadsafe_);
      has_threadsafe_.store(false, std::memory_order_relaxed);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      try {
        batch[i]();
      } catch (...) {
        for (std::size_t j = i + 1; j < batch.size(); ++j) ready_.push_back(std::move(batch[j]));
        throw;
      }
    }
  }
  backend_->deliver_ready();
  rethrow_pending_exception();
}

void Loop::poll(bool may_wait) {
  detail::Backend::Timeout timeout = std::chrono::nanoseconds::zero();
  if (may_wait && !dont_wait_ && ready_.empty() && !backend_->has_ready()) {
    if (Timer* next = timers_->top()) {
      const auto now = Clock::now();
      timeout = next->when_ > now ? std::chrono::ceil<std::chrono::nanoseconds>(next->when_ - now)
                                  : std::chrono::nanoseconds::zero();
    } else {
      timeout = std::nullopt;
    }
  }
  if (timeout != std::chrono::nanoseconds::zero()) {
    sleeping_.store(true, std::memory_order_seq_cst);
    if (has_threadsafe_.load(std::memory_order_seq_cst) || stop_.load(std::memory_order_seq_cst))
      timeout = std::chrono::nanoseconds::zero();
  }
  try {
    backend_->poll(timeout);
  } catch (...) {
    sleeping_.store(false, std::memory_order_relaxed);
    throw;
  }
  sleeping_.store(false, std::memory_order_relaxed);
  rethrow_pending_exception();
}

void Loop::rethrow_pending_exception() {
  if (callback_exception_) std::rethrow_exception(std::exchange(callback_exception_, nullptr));
}

// ---- callbacks and timers -----------------------------------------------------

void Loop::call_soon(Callback callback) { ready_.push_back(std::move(callback)); }

void Loop::call_soon_threadsafe(Callback callback) {
  // Once the mutex is released the loop may run the callback and be
  // destroyed: wake_if_sleeping() touches the loop no more after that.
  std::unique_lock lock(threadsafe_mutex_);
  threadsafe_.push_back(std::move(callback));
  has_threadsafe_.store(true, std::memory_order_seq_cst);
  if (running_here != this) wake_if_sleeping(lock);
}

TimerHandle Loop::call_at(Clock::time_point when, Callback callback) {
  auto timer = std::make_shared<detail::CallbackTimer>(*this, std::move(callback));
  timer->owned_ = true;
  timers_->push(*timer, when);
  timer->keep_alive = timer;
  return TimerHandle(std::move(timer));
}

void Loop::start_timer(Timer& timer, Clock::time_point when) noexcept { timers_->push(timer, when); }

void Loop::cancel_timer(Timer& timer) noexcept { timers_->erase(timer); }

// ---- operations ---------------------------------------------------------------

void Loop::start(Operation& op) {
  if (op.pending_) throw RuntimeError("io::Operation started while still pending");
  if (op.fd_ < 0) throw ValueError("io::Operation on a negative file descriptor");
  backend_->start(op);
}

void Loop::accept(Operation& op, int listen_fd) {
  op.kind_ = OpKind::accept;
  op.fd_ = listen_fd;
  start(op);
}

void Loop::accept_multishot(Operation& op, int listen_fd) {
  op.kind_ = OpKind::accept_multishot;
  op.fd_ = listen_fd;
  start(op);
}

void Loop::connect(Operation& op, int fd, const sockaddr* address, socklen_t length) {
  op.kind_ = OpKind::connect;
  op.fd_ = fd;
  op.address_ = address;
  op.address_length_ = length;
  start(op);
}

void Loop::recv(Operation& op, int fd, std::span<std::byte> into) {
  op.kind_ = OpKind::recv;
  op.fd_ = fd;
  op.buffer_ = into.data();
  op.length_ = into.size();
  start(op);
}

void Loop::recv_multishot(Operation& op, int fd, BufferPool& pool) {
  op.kind_ = OpKind::recv_multishot;
  op.fd_ = fd;
  op.pool_ = pool.group();
  start(op);
}

void Loop::send(Operation& op, int fd, std::span<const std::byte> bytes, int flags) {
  op.kind_ = OpKind::send;
  op.fd_ = fd;
  op.buffer_ = const_cast<std::byte*>(bytes.data());
  op.length_ = bytes.size();
  op.events_ = static_cast<std::uint32_t>(flags);
  start(op);
}

void Loop::watch(Operation& op, int fd, std::uint32_t events) {
  op.kind_ = OpKind::watch;
  op.fd_ = fd;
  op.events_ = events;
  start(op);
}

void Loop::cancel(Operation& op) noexcept { backend_->cancel(op); }

void Loop::close(int fd) noexcept {
  if (fd < 0) return;
  remove_reader(fd);
  remove_writer(fd);
  backend_->forget(fd);
  ::close(fd);
}

// ---- readiness callbacks --------------------------------------------------------

void Loop::add_watch_callback(int fd, std::uint32_t events, Callback callback,
                              std::unordered_map<int, detail::OwnedOperation*>& table) {
  if (auto it = table.find(fd); it != table.end()) {
    it->second->callback = std::move(callback);
    return;
  }
  auto op = std::make_unique<detail::OwnedOperation>(*this, std::move(callback));
  watch(*op, fd, events);
  op->link();
  table.emplace(fd, op.release());
}

bool Loop::remove_watch_callback(int fd, std::unordered_map<int, detail::OwnedOperation*>& table) noexcept {
  auto it = table.find(fd);
  if (it == table.end()) return false;
  detail::OwnedOperation* op = it->second;
  table.erase(it);
  cancel(*op);  // freed by its final result
  return true;
}

void Loop::add_reader(int fd, Callback callback) { add_watch_callback(fd, EPOLLIN, std::move(callback), readers_); }
bool Loop::remove_reader(int fd) noexcept { return remove_watch_callback(fd, readers_); }
void Loop::add_writer(int fd, Callback callback) { add_watch_callback(fd, EPOLLOUT, std::move(callback), writers_); }
bool Loop::remove_writer(int fd) noexcept { return remove_watch_callback(fd, writers_); }

BufferPool& Loop::create_buffer_pool(std::uint16_t count, std::uint32_t size) {
  if (count == 0 || size == 0) throw ValueError("a buffer pool needs buffers of some size");
  if (count > kMaxPoolBuffers) throw ValueError("a buffer pool holds at most 32768 buffers");
  const auto group = static_cast<std::uint16_t>(pools_.size());
  pools_.push_back(backend_->create_pool(group, count, size));
  return *pools_.back();
}

}  // namespace weft::io
