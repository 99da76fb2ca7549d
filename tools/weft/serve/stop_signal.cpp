// tools/weft/serve/stop_signal.cpp — the signal handler behind StopSignal.
#include "weft/serve/stop_signal.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

namespace weft::tool {
namespace {

std::atomic<bool> g_stop{false};
int g_stop_fd = -1;

void on_signal(int) { StopSignal::request_stop(); }

}  // namespace

StopSignal::StopSignal() {
  g_stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (g_stop_fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  struct sigaction action {};
  action.sa_handler = &on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGINT, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

StopSignal::~StopSignal() {
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  ::close(g_stop_fd);
  g_stop_fd = -1;
}

bool StopSignal::requested() const noexcept { return g_stop.load(std::memory_order_relaxed); }

int StopSignal::fd() const noexcept { return g_stop_fd; }

void StopSignal::request_stop() noexcept {
  g_stop.store(true, std::memory_order_relaxed);
  const std::uint64_t one = 1;
  if (g_stop_fd >= 0) [[maybe_unused]] ssize_t n = ::write(g_stop_fd, &one, sizeof one);
}

pid_t StopSignal::fork_child() noexcept {
  sigset_t stopping, previous;
  sigemptyset(&stopping);
  sigaddset(&stopping, SIGTERM);
  sigaddset(&stopping, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &stopping, &previous);
  const pid_t pid = ::fork();
  const int error = errno;
  if (pid == 0) {
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    if (g_stop_fd >= 0) ::close(g_stop_fd);
    g_stop_fd = -1;
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = error;
  return pid;
}

}  // namespace weft::tool
