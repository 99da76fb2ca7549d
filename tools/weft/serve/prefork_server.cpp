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
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <vector>

#include "weft/serve/loop_server.hpp"
#include "weft/serve/models.hpp"

namespace weft::tool {

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
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != server) ::_exit(0);
      ::close(ready[0]);
      serve_loops(worker_options, io::Backend::epoll, listener, stop.fd(), [&](io::Backend) {
        const char byte = 1;
        [[maybe_unused]] ssize_t n = ::write(ready[1], &byte, 1);
        ::close(ready[1]);
      });
      ::_exit(0);
    }
    workers.push_back(pid);
  }
  ::close(ready[1]);
  for (int set_up = 0; set_up < options.workers;) {
    char byte;
    const ssize_t n = ::read(ready[0], &byte, 1);
    if (n == 0) break;  // a worker died before it was ready
    if (n > 0) ++set_up;
  }
  ::close(ready[0]);
  on_ready();
  pollfd stopped{stop.fd(), POLLIN, 0};
  while (::poll(&stopped, 1, -1) <= 0) {
  }
  for (pid_t pid : workers) ::kill(pid, SIGTERM);
  for (pid_t pid : workers) ::waitpid(pid, nullptr, 0);
}

}  // namespace weft::tool
