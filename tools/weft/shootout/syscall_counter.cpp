// tools/weft/shootout/syscall_counter.cpp — perf stat as a child process;
// its CSV line (-x,) is "COUNT,,raw_syscalls:sys_enter,...".
#include "weft/shootout/syscall_counter.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace weft::tool {
namespace {

// Runs perf with `args`, its stderr (where perf stat reports) to a pipe.
pid_t spawn_perf(const std::vector<std::string>& args, int& output_fd) {
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

std::string read_all(int fd) {
  std::string text;
  char buffer[1024];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  return text;
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
    const std::string text = read_all(fd);
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 && parse_count(text).has_value();
  }();
  return usable;
}

SyscallCounter::SyscallCounter(pid_t pid) noexcept : started_(std::chrono::steady_clock::now()) {
  if (!available()) return;
  perf_ = spawn_perf({"perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", std::to_string(pid)}, output_fd_);
}

SyscallCounter::~SyscallCounter() { stop(); }

std::optional<SyscallCounter::Count> SyscallCounter::stop() noexcept {
  if (perf_ < 0) return std::nullopt;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  ::kill(perf_, SIGINT);
  const std::string text = read_all(output_fd_);
  ::close(std::exchange(output_fd_, -1));
  ::waitpid(std::exchange(perf_, -1), nullptr, 0);
  const auto count = parse_count(text);
  if (!count) return std::nullopt;
  return Count{*count, seconds};
}

}  // namespace weft::tool
