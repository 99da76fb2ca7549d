// tools/weft/shootout/syscall_counter.cpp — perf stat as a child process;
// its CSV line (-x,) is "COUNT,,raw_syscalls:sys_enter,...".
#include "weft/shootout/syscall_counter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace weft::tool {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPatience = std::chrono::seconds(5);

int left_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Runs perf with `args`, its stderr (where perf stat reports) to a pipe;
// `keep` are descriptors perf inherits (the others close on exec).
pid_t spawn_perf(const std::vector<std::string>& args, int& output_fd, const std::vector<int>& keep = {}) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], STDERR_FILENO);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
    ::execvp("perf", argv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return -1;
  }
  output_fd = fds[0];
  return pid;
}

// Reads until end of file or `deadline`; false if the deadline came first.
bool read_all(int fd, std::string& text, Clock::time_point deadline) {
  char buffer[1024];
  for (;;) {
    pollfd readable{fd, POLLIN, 0};
    const int ready = ::poll(&readable, 1, left_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

// Waits for `pid` until `deadline`, then kills it; always reaps it.
int reap(pid_t pid, Clock::time_point deadline) {
  int status = 0;
  const int exited = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd gone{exited, POLLIN, 0};
  if (exited < 0 || ::poll(&gone, 1, left_ms(deadline)) <= 0) ::kill(pid, SIGKILL);
  if (exited >= 0) ::close(exited);
  ::waitpid(pid, &status, 0);
  return status;
}

std::optional<std::uint64_t> parse_count(const std::string& text) {
  const auto at = text.find(",raw_syscalls:sys_enter");
  if (at == std::string::npos) return std::nullopt;
  auto begin = text.rfind('\n', at);
  begin = begin == std::string::npos ? 0 : begin + 1;
  std::uint64_t count = 0;
  const auto [end, ec] = std::from_chars(text.data() + begin, text.data() + at, count);
  if (ec != std::errc{}) return std::nullopt;
  return count;
}

}  // namespace

bool SyscallCounter::available() noexcept {
  static const bool usable = [] {
    int fd = -1;
    const pid_t pid = spawn_perf({"perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--", "true"}, fd);
    if (pid < 0) return false;
    std::string text;
    const auto deadline = Clock::now() + kPatience;
    read_all(fd, text, deadline);
    ::close(fd);
    const int status = reap(pid, deadline);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && parse_count(text).has_value();
  }();
  return usable;
}

SyscallCounter::SyscallCounter(pid_t pid) noexcept {
  if (!available()) return;
  int control[2], ack[2];
  if (::pipe2(control, O_CLOEXEC) != 0) return;
  if (::pipe2(ack, O_CLOEXEC) != 0) {
    ::close(control[0]);
    ::close(control[1]);
    return;
  }
  perf_ = spawn_perf({"perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "--delay=-1", "--control",
                      "fd:" + std::to_string(control[0]) + "," + std::to_string(ack[1]), "-p", std::to_string(pid)},
                     output_fd_, {control[0], ack[1]});
  ::close(control[0]);
  ::close(ack[1]);
  control_fd_ = control[1];
  ack_fd_ = ack[0];
  if (perf_ < 0) failed_ = true;
}

SyscallCounter::~SyscallCounter() { stop(); }

bool SyscallCounter::command(const char* text) noexcept {
  if (perf_ < 0 || failed_) return false;
  const std::string line = std::string(text) + "\n";
  if (::write(control_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
    failed_ = true;
    return false;
  }
  // perf answers "ack\n" once the counters are switched.
  std::string answer;
  const auto deadline = Clock::now() + kPatience;
  while (answer.find('\n') == std::string::npos) {
    pollfd readable{ack_fd_, POLLIN, 0};
    const int ready = ::poll(&readable, 1, left_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    char buffer[64];
    const ssize_t n = ready > 0 ? ::read(ack_fd_, buffer, sizeof buffer) : 0;
    if (n <= 0) {
      failed_ = true;
      return false;
    }
    answer.append(buffer, static_cast<std::size_t>(n));
  }
  return answer.rfind("ack", 0) == 0 || (failed_ = true, false);
}

bool SyscallCounter::enable() noexcept { return enabled_once_ = command("enable"); }

bool SyscallCounter::disable() noexcept { return command("disable"); }

std::optional<std::uint64_t> SyscallCounter::stop() noexcept {
  if (perf_ < 0) return std::nullopt;
  ::kill(perf_, SIGINT);
  std::string text;
  const auto deadline = Clock::now() + kPatience;
  read_all(output_fd_, text, deadline);  // perf reports as it exits
  for (int* fd : {&output_fd_, &control_fd_, &ack_fd_})
    if (*fd >= 0) ::close(std::exchange(*fd, -1));
  reap(std::exchange(perf_, -1), deadline);
  if (failed_ || !enabled_once_) return std::nullopt;
  return parse_count(text);
}

}  // namespace weft::tool
