// The child of a Process on its loop: started streams, the pidfd watch that
// reaps it, signals, and the end of a child nobody waited for.
#include "process_state.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "stream_transport.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio::detail {
namespace {

// Kills the child if it still runs and reaps it. SIGKILL cannot be caught:
// the wait is only the kernel's teardown of the child.
void kill_and_reap(int pidfd) noexcept {
  ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  siginfo_t info{};
  while (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED) != 0 && errno == EINTR) {
  }
}

}  // namespace

CountedRef<ProcessState> ProcessState::open(EventLoop& loop, const Spawned& spawned, std::size_t limit) {
  ProcessState* state;
  try {
    state = new ProcessState(loop, spawned);
  } catch (...) {
    kill_and_reap(spawned.pidfd);
    for (const int fd : {spawned.pidfd, spawned.stdin_fd, spawned.stdout_fd, spawned.stderr_fd})
      if (fd >= 0) ::close(fd);
    throw;
  }
  CountedRef<ProcessState> owner(state);  // an exception below ends the child
  state->stdin_pipe = state->take_pipe<StreamWriter>(state->stdin_fd_, limit);
  state->stdout_pipe = state->take_pipe<StreamReader>(state->stdout_fd_, limit);
  state->stderr_pipe = state->take_pipe<StreamReader>(state->stderr_fd_, limit);
  loop.io().add_reader(state->pidfd_, [state] { state->reap(); });
  return owner;
}

ProcessState::ProcessState(EventLoop& loop, const Spawned& spawned) noexcept
    : loop_(loop),
      pid_(spawned.pid),
      pidfd_(spawned.pidfd),
      stdin_fd_(spawned.stdin_fd),
      stdout_fd_(spawned.stdout_fd),
      stderr_fd_(spawned.stderr_fd) {}

ProcessState::~ProcessState() {
  for (const int fd : {stdin_fd_, stdout_fd_, stderr_fd_})
    if (fd >= 0) ::close(fd);
  if (pidfd_ < 0) return;
  kill_and_reap(pidfd_);
  close_pidfd();
}

template <class Stream>
std::optional<Stream> ProcessState::take_pipe(int& fd, std::size_t limit) {
  if (fd < 0) return std::nullopt;
  // The transport owns the fd from here, even if it throws.
  return Stream(StreamTransport::open(loop_, std::exchange(fd, -1), limit, false, nullptr));
}

void ProcessState::send_signal(int signal) {
  if (pidfd_ < 0) return;  // reaped: Python's Popen ignores it too
  if (::syscall(SYS_pidfd_send_signal, pidfd_, signal, nullptr, 0) != 0) net::raise_os_error(errno, "send_signal");
}

void ProcessState::reap() noexcept {
  siginfo_t info{};
  if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG) != 0) {
    if (errno == EINTR) return;  // still readable: tried again at the next poll
    // ECHILD: somebody else reaped it (SIGCHLD ignored, a waitpid(-1)).
    // Python's pidfd watcher reports 255 then.
    returncode_ = 255;
  } else if (info.si_pid == 0) {
    return;
  } else {
    returncode_ = info.si_code == CLD_EXITED ? info.si_status : -info.si_status;
  }
  close_pidfd();
  exit_waiters_.notify_all();
}

void ProcessState::close_pidfd() noexcept {
  loop_.io().remove_reader(pidfd_);
  loop_.io().close(std::exchange(pidfd_, -1));
}

void counted_add_ref(ProcessState* process) noexcept { process->add_ref(); }
void counted_release(ProcessState* process) noexcept { process->release(); }

}  // namespace weft::aio::detail
