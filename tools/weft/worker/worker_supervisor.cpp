// tools/weft/worker/worker_supervisor.cpp — the supervisor's loop: one
// poll on a signalfd, with a timeout only while a restart is delayed.
#include "weft/worker/worker_supervisor.hpp"

#include <fmt/core.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "weft/dist/redis.hpp"
#include "weft/wait_status.hpp"

namespace weft::tool {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto quick_death = std::chrono::seconds(1);
constexpr milliseconds first_delay{100};
constexpr milliseconds longest_delay{10000};
// dist's exit status for a task past its time limit.
constexpr int task_timeout_status = 70;

template <class... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  fmt::print(format, std::forward<Args>(args)...);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

std::string describe_end(int status) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == task_timeout_status)
    return describe_wait_status(status) + " (a task ran past its time limit)";
  return describe_wait_status(status);
}

// SIGCHLD, SIGTERM and SIGINT, blocked and read from a signalfd.
class SignalInbox {
 public:
  SignalInbox() {
    sigemptyset(&signals_);
    for (const int signal : {SIGCHLD, SIGTERM, SIGINT}) sigaddset(&signals_, signal);
    if (::sigprocmask(SIG_BLOCK, &signals_, &previous_) != 0)
      throw std::system_error(errno, std::generic_category(), "sigprocmask");
    fd_ = ::signalfd(-1, &signals_, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd_ < 0) {
      const int error = errno;
      ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
      throw std::system_error(error, std::generic_category(), "signalfd");
    }
  }
  ~SignalInbox() {
    ::close(fd_);
    ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
  }
  SignalInbox(const SignalInbox&) = delete;
  SignalInbox& operator=(const SignalInbox&) = delete;

  // Waits for signals, at most `timeout` (forever if negative); returns
  // the numbers of those that came.
  std::vector<int> wait(milliseconds timeout) {
    pollfd readable{fd_, POLLIN, 0};
    const int ready = ::poll(&readable, 1, timeout.count() < 0 ? -1 : static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) throw std::system_error(errno, std::generic_category(), "poll");
    std::vector<int> received;
    signalfd_siginfo info;
    while (::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info))
      received.push_back(static_cast<int>(info.ssi_signo));
    return received;
  }

 private:
  sigset_t signals_;
  sigset_t previous_;
  int fd_ = -1;
};

class Supervisor {
 public:
  explicit Supervisor(const SupervisorOptions& options)
      : options_(options), shown_url_(dist::RedisUrl::parse(options.worker.redis_url).str()) {}

  int run() {
    for (std::size_t i = 0; i < options_.concurrency; ++i) start(true);
    for (;;) {
      if (stopping_ && workers_.empty()) return 0;
      for (const int signal : inbox_.wait(until_restart())) {
        if (signal == SIGCHLD) {
          reap();
        } else {
          stop();
        }
      }
      if (!stopping_ && Clock::now() >= restart_at_)
        while (workers_.size() < options_.concurrency && start(false)) {
        }
    }
  }

 private:
  // How long the next wait may last: until the delayed restart, or forever.
  milliseconds until_restart() const {
    if (stopping_ || workers_.size() >= options_.concurrency) return milliseconds(-1);
    return std::max(milliseconds(0), std::chrono::ceil<milliseconds>(restart_at_ - Clock::now()));
  }

  // False when the worker could not be started (a restart is scheduled).
  bool start(bool first) {
    pid_t pid;
    try {
      pid = dist::detail::spawn_worker_process(options_.executable, options_.arguments, options_.worker);
    } catch (const std::system_error& error) {
      if (first) throw;
      say("cannot start a worker: {}", error.what());
      delay_restart();
      return false;
    }
    workers_[pid] = Clock::now();
    say("worker {} started (queue {}, {})", pid, options_.worker.queue, shown_url_);
    return true;
  }

  void reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      const auto found = workers_.find(pid);
      if (found == workers_.end()) continue;
      const Clock::time_point started = found->second;
      workers_.erase(found);
      if (stopping_) {
        // A worker still starting has no handler yet: SIGTERM ends it at once.
        const bool asked = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                           (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
        say("worker {} {}", pid, asked ? "stopped" : describe_end(status));
        continue;
      }
      if (Clock::now() - started < quick_death) {
        delay_restart();
        const auto delay = std::chrono::duration<double>(restart_at_ - Clock::now());
        say("worker {} {} within a second of its start; starting another in {:.1f} s", pid, describe_end(status),
            std::max(0.0, delay.count()));
      } else {
        quick_deaths_ = 0;
        say("worker {} {}; starting another", pid, describe_end(status));
      }
    }
  }

  void delay_restart() {
    ++quick_deaths_;
    const auto delay = std::min(longest_delay, milliseconds(first_delay.count() << std::min(quick_deaths_ - 1, 10)));
    restart_at_ = std::max(restart_at_, Clock::now() + delay);
  }

  void stop() {
    if (!stopping_) {
      stopping_ = true;
      if (workers_.empty()) {
        say("stopping");
      } else {
        say("stopping: {} worker{} finishing {} task", workers_.size(), workers_.size() == 1 ? "" : "s",
            workers_.size() == 1 ? "its" : "their");
      }
      for (const auto& [pid, started] : workers_) ::kill(pid, SIGTERM);
    } else {
      say("stopping now: killing {} worker{}", workers_.size(), workers_.size() == 1 ? "" : "s");
      for (const auto& [pid, started] : workers_) ::kill(pid, SIGKILL);
    }
  }

  const SupervisorOptions& options_;
  // The URL with its password hidden.
  const std::string shown_url_;
  SignalInbox inbox_;
  std::map<pid_t, Clock::time_point> workers_;
  bool stopping_ = false;
  int quick_deaths_ = 0;
  Clock::time_point restart_at_ = Clock::now();
};

}  // namespace

int supervise(const SupervisorOptions& options) { return Supervisor(options).run(); }

}  // namespace weft::tool
