// tools/weft/serve/blocking_servers.cpp — the blocking-IO models: a thread
// or a process per connection, each running the same read-reply loop.
#include <poll.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <string>
#include <system_error>

#include "weft/net.hpp"
#include "weft/serve/accept_backoff.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/read_reply_loop.hpp"
#include "weft/threading.hpp"

namespace weft::tool {
namespace {

// Waits until the listener has a connection (true) or a stop was requested.
bool wait_for_connection(const net::Socket& listener, const StopSignal& stop) {
  for (;;) {
    std::array<pollfd, 2> fds{{{listener.fileno(), POLLIN, 0}, {stop.fd(), POLLIN, 0}}};
    if (::poll(fds.data(), fds.size(), -1) < 0) continue;  // EINTR
    if (fds[1].revents != 0) return false;
    if (fds[0].revents != 0) return true;
  }
}

// Waits kAcceptBackoff, or until a stop is requested: the resource a
// connection needs (a descriptor, a thread, a process) ran out, and the
// listener that stays readable would otherwise be spun on.
void back_off(const StopSignal& stop) {
  pollfd stopping{stop.fd(), POLLIN, 0};
  ::poll(&stopping, 1, static_cast<int>(kAcceptBackoff.count()));
}

// Reaps every child that has exited, so that its CPU time reaches this
// process's cutime/cstime (what the shootout's CPU accounting reads)
// instead of vanishing with it.
void reap_children(int) {
  const int saved = errno;
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  errno = saved;
}

}  // namespace

void serve_threads(const ServeOptions& options, net::Socket& listener, const StopSignal& stop) {
  listener.setblocking(false);  // a connection the client withdrew must not block accept
  while (wait_for_connection(listener, stop)) {
    try {
      auto [connection, address] = listener.accept();
      connection.setblocking(true);
      Thread worker({.daemon = true}, [c = std::move(connection), protocol = options.protocol]() mutable {
        read_reply_loop(c, protocol);
      });
      try {
        worker.start();
      } catch (const std::system_error&) {
        back_off(stop);  // no thread for it: the connection closes with `worker`
      }
    } catch (const net::BlockingIOError&) {
    } catch (const net::OSError& error) {
      if (accept_must_back_off(error.code().value())) back_off(stop);
    }
  }
}

void serve_processes(const ServeOptions& options, net::Socket& listener, const StopSignal& stop) {
  struct sigaction reaper {};
  reaper.sa_handler = &reap_children;
  sigemptyset(&reaper.sa_mask);
  reaper.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &reaper, nullptr);
  const pid_t server = ::getpid();
  listener.setblocking(false);
  while (wait_for_connection(listener, stop)) {
    try {
      auto [connection, address] = listener.accept();
      const pid_t child = StopSignal::fork_child();  // its SIGTERM ends it, not the server
      if (child == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != server) ::_exit(0);
        ::signal(SIGCHLD, SIG_DFL);
        listener.close();
        connection.setblocking(true);
        read_reply_loop(connection, options.protocol);
        connection.close();
        ::_exit(0);
      }
      if (child < 0) back_off(stop);  // no process for it: the connection closes here
    } catch (const net::BlockingIOError&) {
    } catch (const net::OSError& error) {
      if (accept_must_back_off(error.code().value())) back_off(stop);
    }
  }
}

}  // namespace weft::tool
