// tools/weft/serve/prefork_server.cpp — the prefork model: worker processes
// forked before any connection arrives, all accepting on one listener (the
// kernel hands each connection to one of them), each an epoll event loop.
// Seed 004's process-pool server serves one client per process at a time;
// here each process serves many, which is what pre-forking servers do.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "weft/serve/loop_server.hpp"
#include "weft/serve/models.hpp"
#include "weft/wait_status.hpp"

namespace weft::tool {
namespace {

// SIGTERM to every worker still running, and reaps them all.
void stop_workers(std::vector<pid_t>& workers) noexcept {
  for (pid_t pid : workers)
    if (pid > 0) ::kill(pid, SIGTERM);
  for (pid_t& pid : workers)
    if (pid > 0) ::waitpid(std::exchange(pid, -1), nullptr, 0);
}

}  // namespace

void serve_prefork(const ServeOptions& options, net::Socket& listener, const StopSignal& stop,
                   const std::function<void()>& on_ready) {
  const pid_t server = ::getpid();
  ServeOptions worker_options = options;
  worker_options.loops = 1;
  // Each worker writes one byte here once its loop is set up.
  int ready[2];
  if (::pipe2(ready, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  std::vector<pid_t> workers;
  for (int i = 0; i < options.workers; ++i) {
    // Each worker stops on a StopSignal of its own (the parent sends it
    // SIGTERM to stop it): one stopped by anyone else has died as far as the
    // parent can tell, which its pidfd reports.
    const pid_t pid = StopSignal::fork_child();
    if (pid < 0) {
      const int error = errno;
      ::close(ready[0]);
      ::close(ready[1]);
      stop_workers(workers);
      throw std::system_error(error, std::generic_category(), "fork");
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != server) ::_exit(0);
      ::close(ready[0]);
      try {
        const StopSignal own_stop;
        serve_loops(worker_options, io::Backend::epoll, listener, own_stop.fd(), [&](io::Backend) {
          const char byte = 1;
          [[maybe_unused]] ssize_t n = ::write(ready[1], &byte, 1);
          ::close(ready[1]);
        });
      } catch (const std::exception& error) {  // never back into the parent's frames
        fmt::print(stderr, "weft serve: prefork worker {}: {}\n", ::getpid(), error.what());
        ::_exit(1);
      }
      ::_exit(0);
    }
    workers.push_back(pid);
  }
  ::close(ready[1]);
  int set_up = 0;
  while (set_up < options.workers) {
    char byte;
    const ssize_t n = ::read(ready[0], &byte, 1);
    if (n > 0) ++set_up;
    else if (n == 0 || errno != EINTR) break;  // 0: every worker still missing has died
  }
  ::close(ready[0]);
  if (set_up < options.workers) {
    stop_workers(workers);
    throw std::runtime_error(fmt::format("only {} of {} prefork workers started; the others exited first", set_up,
                                         options.workers));
  }

  // A pidfd per worker becomes readable when it exits: a worker that dies
  // while serving ends the server, rather than leaving fewer workers than
  // announced.
  std::vector<pollfd> watched{{stop.fd(), POLLIN, 0}};
  for (pid_t pid : workers) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (pidfd < 0) {
      const int error = errno;
      for (std::size_t i = 1; i < watched.size(); ++i) ::close(watched[i].fd);
      stop_workers(workers);
      throw std::system_error(error, std::generic_category(), "pidfd_open");
    }
    watched.push_back({pidfd, POLLIN, 0});
  }
  on_ready();
  std::string died;
  while (died.empty()) {
    if (::poll(watched.data(), watched.size(), -1) <= 0) continue;  // EINTR
    if (watched[0].revents != 0 || stop.requested()) break;
    for (std::size_t i = 1; i < watched.size() && died.empty(); ++i) {
      if (watched[i].revents == 0) continue;
      const pid_t pid = workers[i - 1];
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) workers[i - 1] = -1;
      died = fmt::format("prefork worker {} {}", pid, describe_wait_status(status));
    }
  }
  for (std::size_t i = 1; i < watched.size(); ++i) ::close(watched[i].fd);
  stop_workers(workers);
  if (!died.empty()) throw std::runtime_error(died + "; the server stops");
}

}  // namespace weft::tool
