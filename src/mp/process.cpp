// weft::mp::Process, ProcessHandle and the registry of a process's
// children: current_process, parent_process, active_children and the
// exit-time join.
#include "weft/mp/process.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "pidfd.hpp"
#include "process_state.hpp"
#include "weft/errors.hpp"
#include "weft/mp/detail/fd_sharing.hpp"

namespace weft::mp {
namespace detail {
namespace {

// The calling process's identity and its children. Replaced, never
// destroyed, in a fork child (another thread may have held the mutex).
struct Registry {
  std::mutex mutex;
  std::shared_ptr<ProcessState> current;
  std::shared_ptr<ProcessState> parent;  // null in the main process
  std::vector<std::shared_ptr<ProcessState>> children;
  std::uint32_t counter = 0;
  bool exit_hook = false;
};

Registry*& registry_pointer() {
  static Registry* instance = [] {
    auto* r = new Registry;
    r->current = std::make_shared<ProcessState>(ProcessState::Kind::current);
    r->current->name = "MainProcess";
    return r;
  }();
  return instance;
}

Registry& registry() { return *registry_pointer(); }

void forget_child(const ProcessState* state) {
  Registry& r = registry();
  std::lock_guard guard(r.mutex);
  std::erase_if(r.children, [&](const auto& child) { return child.get() == state; });
}

[[noreturn]] void throw_closed() { throw ValueError("process object is closed"); }

// Python asserts these; the object of another process is a copy.
void check_child(const ProcessState& state, const char* what) {
  if (state.kind != ProcessState::Kind::child || state.creator != ::getpid())
    throw RuntimeError(std::string("can only ") + what + " a child process");
}

// Under state.mutex: records the exit code if the child has ended.
void poll_locked(ProcessState& state) {
  if (state.exitcode || !state.started || state.sentinel < 0) return;
  if (state.status_pipe) {
    pollfd ready{state.sentinel, POLLIN, 0};
    if (::poll(&ready, 1, 0) <= 0) return;
    std::int32_t code = 0;
    ssize_t n;
    do n = ::read(state.sentinel, &code, sizeof code);
    while (n < 0 && errno == EINTR);
    state.exitcode = n == sizeof code ? code : 255;  // the server died: Python says 255 too
    return;
  }
  siginfo_t info{};
  if (::waitid(P_PIDFD, static_cast<id_t>(state.sentinel), &info, WEXITED | WNOHANG) != 0) {
    if (errno == ECHILD) state.exitcode = 255;  // reaped behind our back
    return;
  }
  if (info.si_pid == 0) return;
  state.exitcode = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
}

// Waits for `fd` to poll readable until `deadline`; false on timeout.
bool wait_readable(int fd, const weft::detail::Deadline& deadline) {
  while (true) {
    int timeout_ms = -1;
    if (deadline) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(
          *deadline - weft::detail::Clock::now());
      timeout_ms = static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, INT_MAX));
    }
    pollfd ready{fd, POLLIN, 0};
    const int n = ::poll(&ready, 1, timeout_ms);
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    if (n == 0 && timeout_ms == 0) return false;
  }
}

void send_signal(const ProcessState& state, int signal) {
  check_child(state, "signal");
  std::lock_guard guard(state.mutex);
  if (state.closed) throw_closed();
  if (!state.started) throw RuntimeError("can only signal a started process");
  if (state.exitcode) return;
  const int result = state.status_pipe
                         ? ::kill(state.pid, signal)
                         : sys_pidfd_send_signal(state.sentinel, signal);
  if (result != 0 && errno != ESRCH)
    throw std::system_error(errno, std::generic_category(), "cannot signal the process");
}

std::string identity_name(const std::vector<std::uint32_t>& identity) {
  std::string name = "Process-";
  for (std::size_t i = 0; i < identity.size(); ++i)
    name += (i == 0 ? "" : ":") + std::to_string(identity[i]);
  return name;
}

void install_exit_hook_locked(Registry& r) {
  if (r.exit_hook) return;
  r.exit_hook = true;
  std::atexit([] { exit_function(); });
}

}  // namespace

ProcessState::~ProcessState() {
  if (sentinel >= 0) ::close(sentinel);
}

std::shared_ptr<ProcessState> current_state() {
  Registry& r = registry();
  std::lock_guard guard(r.mutex);
  return r.current;
}

void become_child(const ChildSpec& spec) {
  auto* r = new Registry;
  r->current = std::make_shared<ProcessState>(ProcessState::Kind::current);
  r->current->name = spec.name;
  r->current->identity = spec.identity;
  r->current->daemon = spec.daemon;
  r->parent = std::make_shared<ProcessState>(ProcessState::Kind::parent);
  r->parent->name = spec.parent_name;
  r->parent->pid = spec.parent_pid;
  r->parent->sentinel = sys_pidfd_open(spec.parent_pid);
  r->parent->started = true;
  registry_pointer() = r;  // the parent's registry is the parent's: leaked on purpose
  force_start_method(spec.method);
  forget_forkserver();
}

void exit_function() noexcept {
  std::vector<std::shared_ptr<ProcessState>> children;
  {
    Registry& r = registry();
    std::lock_guard guard(r.mutex);
    children = r.children;
  }
  // At exit, a child that cannot be signalled or waited for is left alone.
  for (const auto& child : children) {
    try {
      if (child->daemon) ProcessHandle(child).terminate();
    } catch (...) {
    }
  }
  for (const auto& child : children) {
    try {
      ProcessHandle(child).join();
    } catch (...) {
    }
  }
}

void flush_std_streams() noexcept {
  try {
    std::cout.flush();
    std::cerr.flush();
    std::clog.flush();
  } catch (...) {
    // A stream with exceptions enabled; stdio is flushed below regardless.
  }
  std::fflush(nullptr);
}

int exitcode_from_status(int status) noexcept {
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace detail

// ------------------------------------------------------------ ProcessHandle

using detail::ProcessState;

std::string ProcessHandle::name() const {
  std::lock_guard guard(state_->mutex);
  return state_->name;
}

void ProcessHandle::set_name(std::string name) {
  std::lock_guard guard(state_->mutex);
  state_->name = std::move(name);
}

bool ProcessHandle::daemon() const noexcept {
  std::lock_guard guard(state_->mutex);
  return state_->daemon;
}

std::optional<pid_t> ProcessHandle::pid() const noexcept {
  if (state_->kind == ProcessState::Kind::current) return ::getpid();
  std::lock_guard guard(state_->mutex);
  if (!state_->started) return std::nullopt;
  return state_->pid;
}

std::optional<int> ProcessHandle::exitcode() const {
  if (state_->kind != ProcessState::Kind::child) return std::nullopt;
  std::lock_guard guard(state_->mutex);
  if (state_->closed) detail::throw_closed();
  if (state_->creator == ::getpid()) detail::poll_locked(*state_);
  return state_->exitcode;
}

bool ProcessHandle::is_alive() const {
  switch (state_->kind) {
    case ProcessState::Kind::current:
      return true;
    case ProcessState::Kind::parent: {
      if (state_->sentinel < 0) return false;
      pollfd ready{state_->sentinel, POLLIN, 0};
      return ::poll(&ready, 1, 0) == 0;
    }
    case ProcessState::Kind::child:
      break;
  }
  detail::check_child(*state_, "test");
  {
    std::lock_guard guard(state_->mutex);
    if (state_->closed) detail::throw_closed();
    if (!state_->started) return false;
    detail::poll_locked(*state_);
    if (!state_->exitcode) return true;
  }
  detail::forget_child(state_.get());
  return false;
}

void ProcessHandle::join() const { join_until(std::nullopt); }

bool ProcessHandle::join_until(const weft::detail::Deadline& deadline) const {
  if (state_->kind == ProcessState::Kind::current)
    throw RuntimeError("can only join a child process");
  if (state_->kind == ProcessState::Kind::parent)
    return state_->sentinel < 0 || detail::wait_readable(state_->sentinel, deadline);
  detail::check_child(*state_, "join");
  int sentinel;
  {
    std::lock_guard guard(state_->mutex);
    if (state_->closed) detail::throw_closed();
    if (!state_->started) throw RuntimeError("can only join a started process");
    sentinel = state_->sentinel;
  }
  while (true) {
    {
      std::lock_guard guard(state_->mutex);
      detail::poll_locked(*state_);
      if (state_->exitcode) break;
    }
    if (!detail::wait_readable(sentinel, deadline)) return false;
  }
  detail::forget_child(state_.get());
  return true;
}

void ProcessHandle::terminate() const { detail::send_signal(*state_, SIGTERM); }

void ProcessHandle::kill() const { detail::send_signal(*state_, SIGKILL); }

int ProcessHandle::sentinel() const {
  std::lock_guard guard(state_->mutex);
  if (state_->closed) detail::throw_closed();
  if (!state_->started || state_->sentinel < 0) throw ValueError("process not started");
  return state_->sentinel;
}

// ------------------------------------------------------------------ Process

Process::Process(ProcessOptions options)
    : state_(std::make_shared<ProcessState>(ProcessState::Kind::child)) {
  const auto current = detail::current_state();
  {
    detail::Registry& r = detail::registry();
    std::lock_guard guard(r.mutex);
    state_->identity = current->identity;
    state_->identity.push_back(++r.counter);
  }
  state_->name = options.name.empty() ? detail::identity_name(state_->identity)
                                      : std::move(options.name);
  state_->daemon = options.daemon.value_or(current->daemon);
  state_->creator = ::getpid();
}

Process::~Process() {
  if (!state_) return;  // moved from
  ProcessState& s = *state_;
  bool running;
  {
    std::lock_guard guard(s.mutex);
    running = s.started && !s.closed && !s.exitcode && s.creator == ::getpid();
  }
  if (!running) return;
  try {
    if (daemon()) terminate();
    join();
  } catch (...) {
    // A destructor cannot report; the child is reaped at exit or by init.
  }
}

void Process::set_daemon(bool daemon) {
  std::lock_guard guard(state_->mutex);
  if (state_->started) throw RuntimeError("process has already started");
  state_->daemon = daemon;
}

void Process::run() {
  if (target_) target_();
}

void Process::close() {
  ProcessState& s = *state_;
  {
    std::lock_guard guard(s.mutex);
    if (s.closed) return;
    if (s.started || s.starting) {
      if (s.started) detail::poll_locked(s);
      if (!s.exitcode)
        throw ValueError(
            "Cannot close a process while it is still running. You should first call join() "
            "or terminate().");
    }
    if (s.sentinel >= 0) ::close(s.sentinel);
    s.sentinel = -1;
    s.closed = true;
  }
  detail::forget_child(&s);  // ended but never joined: no longer one of active_children()
}

void Process::start() {
  ProcessState& s = *state_;
  if (s.creator != ::getpid())
    throw RuntimeError("can only start a process object created by current process");
  detail::ChildSpec spec;
  {
    std::lock_guard guard(s.mutex);
    if (s.closed) detail::throw_closed();
    if (s.started || s.starting) throw RuntimeError("cannot start a process twice");
    s.starting = true;
    spec.name = s.name;
    spec.identity = s.identity;
    spec.daemon = s.daemon;
  }
  // Another start() refuses while this one launches; if it throws, start() may be tried again.
  struct Starting {
    ProcessState& s;
    ~Starting() {
      std::lock_guard guard(s.mutex);
      s.starting = false;
    }
  } starting{s};
  const auto current = detail::current_state();
  if (current->daemon) throw RuntimeError("daemonic processes are not allowed to have children");
  spec.parent_pid = ::getpid();
  spec.parent_name = ProcessHandle(current).name();
  spec.method = method_ ? *method_ : detail::global_start_method();
  if (spec.method != StartMethod::fork && !encode_)
    throw ValueError(spec.name +
                     ": a target with captures, or a run() override, can only start with the "
                     "fork start method; give spawn and forkserver a free function or a "
                     "captureless lambda with codec-encodable arguments, or use "
                     "get_context(\"fork\")");
  active_children();  // reaps the children that have ended, as Python's _cleanup()
  detail::flush_std_streams();

  detail::Launched launched;
  if (spec.method == StartMethod::fork) {
    weft::detail::UniqueFunction<void()> body = [this] { run(); };
    launched = detail::launch(spec, [&] { return detail::launch_fork(spec, body); });
  } else {
    std::string args;
    std::vector<int> fds;
    {
      detail::FdSharingScope scope;
      args = encode_();
      fds.assign(scope.fds().begin(), scope.fds().end());
    }
    const std::string payload = detail::encode_payload(spec, rebuild_, args);
    launched = spec.method == StartMethod::spawn
                   ? detail::launch(spec, [&] { return detail::launch_spawn(payload, fds); })
                   : detail::launch_forkserver(payload, fds);
  }
  {
    std::lock_guard guard(s.mutex);
    s.pid = launched.pid;
    s.sentinel = launched.sentinel;
    s.status_pipe = launched.status_pipe;
    s.started = true;
  }
  target_ = {};
  encode_ = {};
  detail::Registry& r = detail::registry();
  std::lock_guard guard(r.mutex);
  r.children.push_back(state_);
  detail::install_exit_hook_locked(r);
}

// ------------------------------------------------------------------ registry

ProcessHandle current_process() { return ProcessHandle(detail::current_state()); }

std::optional<ProcessHandle> parent_process() {
  detail::Registry& r = detail::registry();
  std::lock_guard guard(r.mutex);
  if (!r.parent) return std::nullopt;
  return ProcessHandle(r.parent);
}

std::vector<ProcessHandle> active_children() {
  std::vector<std::shared_ptr<ProcessState>> children;
  {
    detail::Registry& r = detail::registry();
    std::lock_guard guard(r.mutex);
    children = r.children;
  }
  std::vector<ProcessHandle> alive;
  for (auto& child : children) {
    ProcessHandle handle(child);
    try {
      if (handle.is_alive()) alive.push_back(std::move(handle));
    } catch (const ValueError&) {
      // Closed by another thread meanwhile (close() forgets it).
    }
  }
  return alive;
}

}  // namespace weft::mp
