// The parent's side of a process pool: the workers, the queue and the pool
// thread (see weft/mp/detail/worker_pool.hpp).
#include "weft/mp/detail/worker_pool.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "weft/detail/exception_text.hpp"
#include "weft/errors.hpp"
#include "weft/futures/errors.hpp"
#include "weft/mp/cpu_count.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"
#include "weft/mp/remote_error.hpp"
#include "worker_frames.hpp"

namespace weft::mp::detail {
namespace {

using Clock = std::chrono::steady_clock;


// Each worker holds at most this much queued work, measured in its own
// recent task durations, and never fewer than min_window tasks.
constexpr double queued_work_us = 2000.0;
constexpr std::size_t min_window = 2;
constexpr std::size_t max_window = 512;

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct Task {
  std::uint32_t function = 0;
  std::uint64_t id = 0;
  std::string args;
  std::shared_ptr<TaskSink> sink;
  bool started = false;  // sink->start() said yes (a task put back is not started twice)
};

struct Worker {
  std::uint64_t serial = 0;
  std::unique_ptr<Process> process;
  RawArray<std::uint64_t> progress{progress_slots};
  Connection connection;
  int fd = -1;
  pid_t pid = 0;
  std::deque<Task> outstanding;  // sent, not answered: the front is running
  std::vector<bool> defined;
  std::string out;
  std::size_t out_sent = 0;
  bool want_write = false;
  std::string in;
  std::size_t sent_total = 0;
  double average_us = -1;
  std::size_t window = min_window;
  bool stopping = false;
  bool ready = false;  // the pool thread has seen its initializer return
};

enum class State { running, closed, terminating, broken };

std::string worker_prefix(StartMethod method, const std::string& prefix) {
  switch (method) {
    case StartMethod::fork:
      return "Fork" + prefix;
    case StartMethod::spawn:
      return "Spawn" + prefix;
    case StartMethod::forkserver:
      return "Forkserver" + prefix;
  }
  return prefix;
}

}  // namespace

// The Impl of the pool whose thread this is, if it is one.
thread_local const void* current_pool = nullptr;

struct WorkerPool::Impl {
  explicit Impl(WorkerPoolConfig config) : config(std::move(config)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (wake >= 0) ::close(wake);
    if (epoll >= 0) ::close(epoll);
  }

  WorkerPoolConfig config;
  std::size_t processes = 0;

  // Shared with submitters.
  mutable std::mutex mutex;
  State state = State::running;
  std::exception_ptr broken_error;
  std::exception_ptr terminate_reason;
  bool terminate_kill = false;
  bool cancel_requested = false;
  std::deque<Task> pending;
  std::uint64_t next_id = 1;
  std::atomic<bool> sleeping{false};
  std::map<std::pair<const void*, const void*>, std::uint32_t> function_numbers;
  std::deque<std::string> defines;

  // The pool thread's.
  int epoll = -1;
  int wake = -1;
  std::thread thread;  // holds the Impl alive while it runs
  std::once_flag joined;
  std::deque<Task> queue;
  std::unordered_map<std::uint64_t, std::unique_ptr<Worker>> workers;
  std::uint64_t next_serial = 1;
  std::uint64_t next_name = 1;
  std::size_t initializer_crashes = 0;  // in a row, no worker becoming ready in between
  static constexpr std::size_t max_initializer_crashes = 3;

  bool on_own_thread() const noexcept { return current_pool == this; }

  // Joins the pool thread; of concurrent callers, one joins and the others
  // wait until it has. Not from the pool thread itself.
  void join_thread() {
    std::call_once(joined, [this] {
      if (thread.joinable()) thread.join();
    });
  }

  void notify() {
    const std::uint64_t one = 1;
    while (::write(wake, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }

  // ---- workers ----

  void start_worker() {
    auto [parent_end, child_end] = Pipe(true);
    auto worker = std::make_unique<Worker>();
    worker->serial = next_serial++;
    const std::string name =
        worker_prefix(config.context.method(), config.name_prefix) + "-" + std::to_string(next_name++);
    worker->process = std::make_unique<Process>(config.context.Process(
        ProcessOptions{.name = name, .daemon = true}, &worker_main, std::move(child_end), worker->progress,
        config.initializer, static_cast<std::int64_t>(config.max_tasks_per_child.value_or(0))));
    worker->process->start();
    worker->pid = *worker->process->pid();
    worker->fd = parent_end.fileno();
    worker->connection = std::move(parent_end);
    ::fcntl(worker->fd, F_SETFL, ::fcntl(worker->fd, F_GETFL) | O_NONBLOCK);
    // Listed before it is watched, so that a failing watch leaves a worker
    // the pool still kills and reaps.
    Worker& started = *workers.emplace(worker->serial, std::move(worker)).first->second;
    watch(started.fd, started.serial * 2, EPOLLIN);
    watch(started.process->sentinel(), started.serial * 2 + 1, EPOLLIN);
  }

  void watch(int fd, std::uint64_t data, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = data;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) != 0) throw_errno("epoll_ctl");
  }

  void set_want_write(Worker& worker, bool want) {
    if (worker.want_write == want) return;
    worker.want_write = want;
    epoll_event event{};
    event.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    event.data.u64 = worker.serial * 2;
    ::epoll_ctl(epoll, EPOLL_CTL_MOD, worker.fd, &event);
  }

  // ---- the queue ----

  // Moves submissions to the pool thread's queue; false when nothing new.
  void take_pending() {
    std::lock_guard lock(mutex);
    if (queue.empty()) {
      queue.swap(pending);
    } else {
      for (auto& task : pending) queue.push_back(std::move(task));
      pending.clear();
    }
  }

  std::size_t capacity(const Worker& worker) const {
    if (worker.stopping) return 0;
    std::size_t room =
        worker.window > worker.outstanding.size() ? worker.window - worker.outstanding.size() : 0;
    if (config.max_tasks_per_child) {
      const std::size_t budget = *config.max_tasks_per_child;
      room = std::min(room, budget > worker.sent_total ? budget - worker.sent_total : 0);
    }
    return room;
  }

  void send_task(Worker& worker, Task&& task) {
    if (task.function >= worker.defined.size()) worker.defined.resize(task.function + 1);
    if (!worker.defined[task.function]) {
      std::string define;
      {
        std::lock_guard lock(mutex);
        define = defines[task.function];
      }
      append_request(worker.out, FrameKind::define, task.function, 0, define);
      worker.defined[task.function] = true;
    }
    append_request(worker.out, FrameKind::task, task.function, task.id, task.args);
    ++worker.sent_total;
    worker.outstanding.push_back(std::move(task));
  }

  // The worker with the fewest unanswered tasks that can take one more.
  Worker* least_loaded() {
    Worker* best = nullptr;
    for (auto& [serial, worker] : workers) {
      if (capacity(*worker) == 0) continue;
      if (best == nullptr || worker->outstanding.size() < best->outstanding.size()) best = worker.get();
    }
    return best;
  }

  void dispatch() {
    while (!queue.empty()) {
      Worker* worker = least_loaded();
      if (worker == nullptr) break;
      // Tiny tasks: a worker's share of the queue in one go; long ones: one.
      std::size_t room = capacity(*worker);
      std::size_t share = std::max<std::size_t>(1, std::min(room, queue.size() / workers.size()));
      while (share > 0 && !queue.empty()) {
        Task task = std::move(queue.front());
        queue.pop_front();
        if (!task.started && !task.sink->start()) continue;
        task.started = true;
        send_task(*worker, std::move(task));
        --share;
      }
    }
    for (auto& [serial, worker] : workers) write_some(*worker);
  }

  void write_some(Worker& worker) {
    while (worker.out_sent < worker.out.size()) {
      const ssize_t n = ::send(worker.fd, worker.out.data() + worker.out_sent,
                               worker.out.size() - worker.out_sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        set_want_write(worker, true);
        return;
      }
      if (n < 0) break;  // the worker is gone; its sentinel will say so
      worker.out_sent += static_cast<std::size_t>(n);
    }
    worker.out.clear();
    worker.out_sent = 0;
    set_want_write(worker, false);
  }

  // ---- answers ----

  // Reads what the worker wrote; false at the end of its stream.
  bool read_some(Worker& worker) {
    char buffer[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(worker.fd, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
      if (n == 0) return false;
      worker.in.append(buffer, static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < sizeof buffer) return true;
    }
  }

  void handle_answers(Worker& worker) {
    std::size_t consumed = 0;
    std::size_t length;
    while ((length = complete_frame(std::string_view(worker.in).substr(consumed))) != 0) {
      const char* frame = worker.in.data() + consumed;
      consumed += length;
      if (length < answer_header) continue;
      const auto outcome = static_cast<Outcome>(get<std::uint8_t>(frame + 4));
      const auto id = get<std::uint64_t>(frame + 5);
      const auto micros = get<std::uint32_t>(frame + 13);
      const std::string_view payload(frame + answer_header, length - answer_header);
      if (outcome == Outcome::init_failed) {
        initializer_failed(payload);  // the loop shuts the pool down next
        worker.in.clear();
        return;
      }
      if (worker.outstanding.empty() || worker.outstanding.front().id != id) continue;
      Task task = std::move(worker.outstanding.front());
      worker.outstanding.pop_front();
      adapt_window(worker, micros);
      task.sink->complete(outcome, payload);
    }
    worker.in.erase(0, consumed);
  }

  void adapt_window(Worker& worker, std::uint32_t micros) {
    const double sample = std::max(0.5, static_cast<double>(micros));
    worker.average_us = worker.average_us < 0 ? sample : 0.8 * worker.average_us + 0.2 * sample;
    const double window = queued_work_us / worker.average_us;
    worker.window = std::clamp(static_cast<std::size_t>(window), min_window, max_window);
  }

  void initializer_failed(std::string_view payload) {
    std::string message = "initializer failed";
    try {
      std::rethrow_exception(decode_error_payload(payload));
    } catch (const std::exception& error) {
      message += ": ";
      message += error.what();
    } catch (...) {
    }
    std::lock_guard lock(mutex);
    if (state == State::running || state == State::closed) {
      state = State::broken;
      broken_error = std::make_exception_ptr(futures::BrokenProcessPool(message));
    }
  }

  // A worker's sentinel fired: it has exited.
  void worker_ended(std::uint64_t serial) {
    auto found = workers.find(serial);
    if (found == workers.end()) return;
    Worker& worker = *found->second;
    read_some(worker);
    handle_answers(worker);
    if (broken()) return;  // the loop shuts every worker down
    worker.process->join();
    const int exitcode = worker.process->exitcode().value_or(-1);
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, worker.fd, nullptr);
    ::epoll_ctl(epoll, EPOLL_CTL_DEL, worker.process->sentinel(), nullptr);
    const pid_t pid = worker.pid;
    const std::uint64_t started =
        std::atomic_ref(worker.progress[started_slot]).load(std::memory_order_acquire);
    const std::uint64_t finished =
        std::atomic_ref(worker.progress[finished_slot]).load(std::memory_order_acquire);
    const bool ready = std::atomic_ref(worker.progress[ready_slot]).load(std::memory_order_acquire) != 0;
    std::deque<Task> unanswered = std::move(worker.outstanding);
    workers.erase(found);
    // Of the unanswered tasks, only the one the worker last started ran
    // (see ProgressSlot), whether it died running it or sending its answer:
    // that one fails, the others never began and are queued again.
    for (auto it = unanswered.rbegin(); it != unanswered.rend(); ++it) {
      if (started != 0 && it->id == started) {
        it->sink->fail(std::make_exception_ptr(WorkerLostError(pid, exitcode, started == finished)));
      } else {
        queue.push_front(std::move(*it));
      }
    }
    note_ready_workers();
    // A worker killed from outside (an operator, the OOM killer) says
    // nothing about the initializer it was running.
    const bool killed = exitcode == -SIGKILL || exitcode == -SIGTERM;
    if (ready) {
      initializer_crashes = 0;
    } else if (config.initializer && !killed) {
      if (++initializer_crashes == max_initializer_crashes) initializer_crashed(pid, exitcode);
    }
    if (needs_worker()) start_worker();
  }

  // A worker whose initializer returned since the pool last looked ends a
  // run of initializer crashes.
  void note_ready_workers() {
    for (auto& [serial, worker] : workers) {
      if (worker->ready || std::atomic_ref(worker->progress[ready_slot]).load(std::memory_order_acquire) == 0)
        continue;
      worker->ready = true;
      initializer_crashes = 0;
    }
  }

  // Workers keep crashing inside the initializer (not an exception, which
  // breaks the pool at once): starting more would loop for ever, as
  // Python's Pool does.
  void initializer_crashed(pid_t pid, int exitcode) {
    std::string how = WorkerLostError(pid, exitcode).what();
    how.erase(how.rfind(" while running the task"));
    std::lock_guard lock(mutex);
    if (state == State::running || state == State::closed) {
      state = State::broken;
      broken_error = std::make_exception_ptr(futures::BrokenProcessPool(
          "initializer failed: " + std::to_string(max_initializer_crashes) + " workers in a row died in it; " + how));
    }
  }

  // Whether a worker that ended must be replaced.
  bool needs_worker() {
    std::lock_guard lock(mutex);
    if (state == State::running) return true;
    return state == State::closed && (!queue.empty() || !pending.empty());
  }

  // Kills every worker and fails every task not done with `error`.
  void shut_down(std::exception_ptr error, bool kill) {
    for (auto& [serial, worker] : workers) {
      try {
        if (kill)
          worker->process->kill();
        else
          worker->process->terminate();
      } catch (...) {
      }
    }
    std::deque<Task> failed;
    for (auto& [serial, worker] : workers) {
      for (auto& task : worker->outstanding) failed.push_back(std::move(task));
      worker->outstanding.clear();
    }
    for (auto& task : queue) failed.push_back(std::move(task));
    queue.clear();
    {
      std::lock_guard lock(mutex);
      for (auto& task : pending) failed.push_back(std::move(task));
      pending.clear();
    }
    for (auto& task : failed) task.sink->fail(error);
    for (auto& [serial, worker] : workers) {
      try {
        worker->process->join();
      } catch (...) {
      }
    }
    workers.clear();
  }

  std::exception_ptr broken() {
    std::lock_guard lock(mutex);
    return broken_error;
  }

  // The pool thread failed (a worker that died could not be replaced, say):
  // nothing will run tasks any more. Unless it was being terminated, the
  // pool breaks, and every task not done fails.
  void thread_failed(std::exception_ptr cause) noexcept {
    const std::string message =
        "the pool can no longer run tasks: " + weft::detail::exception_text(cause);
    std::exception_ptr error;
    {
      std::lock_guard lock(mutex);
      if (state == State::running || state == State::closed) {
        state = State::broken;
        broken_error = std::make_exception_ptr(futures::BrokenProcessPool(message));
      }
      error = state == State::broken ? broken_error : terminate_reason;
    }
    shut_down(error, true);
  }

  // Drops the queued tasks not started. A started one (put back after its
  // worker died) stays: its future is running, and a running future is
  // never cancelled, so it runs again.
  void cancel_queued() {
    take_pending();
    std::deque<Task> cancelled;
    std::deque<Task> kept;
    for (auto& task : queue) (task.started ? kept : cancelled).push_back(std::move(task));
    queue = std::move(kept);
    for (auto& task : cancelled) task.sink->cancel();
  }

  // ---- the loop ----

  bool all_idle() const {
    return queue.empty() &&
           std::all_of(workers.begin(), workers.end(), [](auto& w) { return w.second->outstanding.empty(); });
  }

  void run() {
    current_pool = this;
    epoll_event events[64];
    for (;;) {
      take_pending();
      State now;
      bool cancel;
      {
        std::lock_guard lock(mutex);
        now = state;
        cancel = std::exchange(cancel_requested, false);
      }
      if (cancel) cancel_queued();
      if (now == State::terminating) {
        std::exception_ptr reason;
        bool kill;
        {
          std::lock_guard lock(mutex);
          reason = terminate_reason;
          kill = terminate_kill;
        }
        shut_down(reason, kill);
        return;
      }
      if (now == State::broken) {
        shut_down(broken(), true);
        return;
      }
      dispatch();
      if (now == State::closed && all_idle()) {
        bool empty;
        {
          std::lock_guard lock(mutex);
          empty = pending.empty();
        }
        if (empty) {
          if (workers.empty()) return;
          for (auto& [serial, worker] : workers) {
            if (worker->stopping) continue;
            append_request(worker->out, FrameKind::stop, 0, 0, {});
            worker->stopping = true;
            write_some(*worker);
          }
        }
      }
      sleeping.store(true);
      bool nothing_new;
      {
        std::lock_guard lock(mutex);
        nothing_new = pending.empty();
      }
      const int n = nothing_new ? ::epoll_wait(epoll, events, 64, -1) : 0;
      sleeping.store(false);
      if (n < 0 && errno != EINTR) throw_errno("epoll_wait");
      std::vector<std::uint64_t> ended;
      for (int i = 0; i < n; ++i) {
        const std::uint64_t data = events[i].data.u64;
        if (data == 0) {
          std::uint64_t count;
          while (::read(wake, &count, sizeof count) < 0 && errno == EINTR) {
          }
          continue;
        }
        auto found = workers.find(data / 2);
        if (found == workers.end()) continue;
        Worker& worker = *found->second;
        if (data % 2 == 1) {
          ended.push_back(data / 2);
          continue;
        }
        if (events[i].events & EPOLLOUT) write_some(worker);
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
          read_some(worker);
          handle_answers(worker);
        }
      }
      for (std::uint64_t serial : ended) {
        worker_ended(serial);
      }
    }
  }
};

WorkerPool::WorkerPool(WorkerPoolConfig config) : impl_(std::make_shared<Impl>(std::move(config))) {
  Impl& impl = *impl_;
  if (impl.config.max_tasks_per_child && *impl.config.max_tasks_per_child == 0)
    throw ValueError("maxtasksperchild must be a positive int or None");
  impl.processes = impl.config.processes;
  if (impl.processes == 0) impl.processes = process_cpu_count();
  impl.epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (impl.epoll < 0) throw_errno("epoll_create1");
  impl.wake = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (impl.wake < 0) throw_errno("eventfd");
  try {
    impl.watch(impl.wake, 0, EPOLLIN);
    for (std::size_t i = 0; i < impl.processes; ++i) impl.start_worker();
    impl.thread = std::thread([keep = impl_] {
      try {
        keep->run();
      } catch (...) {
        keep->thread_failed(std::current_exception());
      }
    });
  } catch (...) {
    impl.shut_down(std::make_exception_ptr(RuntimeError("the pool failed to start")), true);
    throw;
  }
}

WorkerPool::~WorkerPool() {
  if (impl_->on_own_thread()) {
    // The last reference went in one of this pool's callbacks: the thread
    // cannot join itself. It goes on once the callback returns (finishing
    // the queued tasks if closed, stopping the workers otherwise) and
    // releases the Impl when it ends.
    if (!closed()) request_terminate(std::make_exception_ptr(CancelledError()), false);
    impl_->thread.detach();
    return;
  }
  if (closed()) {
    join();
  } else {
    terminate(std::make_exception_ptr(CancelledError()), false);
  }
}

std::optional<std::uint32_t> WorkerPool::find_function(MakeRunner maker, const void* function) {
  std::lock_guard lock(impl_->mutex);
  auto found = impl_->function_numbers.find({reinterpret_cast<const void*>(maker), function});
  if (found == impl_->function_numbers.end()) return std::nullopt;
  return found->second;
}

std::uint32_t WorkerPool::add_function(MakeRunner maker, const void* function, std::string define) {
  std::lock_guard lock(impl_->mutex);
  auto [it, added] =
      impl_->function_numbers.emplace(std::pair{reinterpret_cast<const void*>(maker), function},
                                      static_cast<std::uint32_t>(impl_->defines.size()));
  if (added) impl_->defines.push_back(std::move(define));
  return it->second;
}

void WorkerPool::throw_not_running() { throw ValueError("Pool not running"); }

void WorkerPool::submit(std::uint32_t function, std::string args, std::shared_ptr<TaskSink> sink,
                        ThrowClosed throw_closed) {
  check_frame_fits(request_header, args.size(), "a task's arguments");
  Impl& impl = *impl_;
  {
    std::lock_guard lock(impl.mutex);
    if (impl.state == State::broken) std::rethrow_exception(impl.broken_error);
    if (impl.state != State::running) throw_closed();
    impl.pending.push_back(Task{function, impl.next_id++, std::move(args), std::move(sink)});
  }
  if (impl.sleeping.exchange(false)) impl.notify();
}

void WorkerPool::close() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state == State::running) impl_->state = State::closed;
  }
  impl_->notify();
}

void WorkerPool::request_terminate(std::exception_ptr reason, bool kill) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state == State::running || impl_->state == State::closed) {
      impl_->state = State::terminating;
      impl_->terminate_reason = std::move(reason);
      impl_->terminate_kill = kill;
    }
  }
  impl_->notify();
}

void WorkerPool::terminate(std::exception_ptr reason, bool kill) {
  request_terminate(std::move(reason), kill);
  if (!impl_->on_own_thread()) impl_->join_thread();
}

void WorkerPool::cancel_pending() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->cancel_requested = true;
  }
  impl_->notify();
}

void WorkerPool::join() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->state == State::running) throw ValueError("Pool is still running");
  }
  if (impl_->on_own_thread()) throw RuntimeError("cannot join a pool from its own thread");
  impl_->join_thread();
}

bool WorkerPool::closed() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return impl_->state != State::running;
}

std::exception_ptr WorkerPool::broken() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->broken_error;
}

std::size_t WorkerPool::processes() const noexcept { return impl_->processes; }

bool WorkerPool::on_pool_thread() noexcept { return current_pool != nullptr; }

std::exception_ptr decode_error_payload(std::string_view payload) noexcept {
  try {
    return decode_exception(codec::decode<EncodedException>(payload));
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace weft::mp::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  weft::mp::detail::Initializer as<weft::mp::detail::Initializer>::operator()(
      const msgpack::object& in) const {
    weft::mp::detail::Initializer decoded;
    if (in.is_nil()) return decoded;
    try {
      if (in.type != msgpack::type::ARRAY || in.via.array.size != 2 ||
          in.via.array.ptr[1].type != msgpack::type::BIN)
        throw weft::codec::DecodeError("an initializer is an array [rebuild, bytes]");
      const auto rebuild = in.via.array.ptr[0].as<weft::mp::detail::Rebuild>();
      const msgpack::object_bin& bytes = in.via.array.ptr[1].via.bin;
      auto call = std::make_shared<weft::detail::UniqueFunction<void()>>(
          rebuild(std::string_view(bytes.ptr, bytes.size)));
      decoded.call = [call] { (*call)(); };
    } catch (...) {
      // Thrown when the worker runs it, which reports it as the initializer's failure.
      decoded.call = [error = std::current_exception()] { std::rethrow_exception(error); };
    }
    return decoded;
  }

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
