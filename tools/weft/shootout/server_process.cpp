// tools/weft/shootout/server_process.cpp — fork/exec of a server under
// test and the reading of its listening line.
#include "weft/shootout/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "weft/pin_to_core.hpp"


namespace weft::tool {
namespace {

using Clock = std::chrono::steady_clock;

// Writes "<what><core>: <strerror>" to `fd` (core omitted if negative).
// Async-signal-safe: for a forked child before exec.
void report_failure(int fd, const char* what, int core, int error) noexcept {
  char text[256];
  std::size_t length = 0;
  auto append = [&](const char* part) {
    for (; *part != '\0' && length < sizeof text; ++part) text[length++] = *part;
  };
  append(what);
  if (core >= 0) {
    char digits[12];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + core % 10); while ((core /= 10) > 0 && n < 11);
    while (n > 0 && length < sizeof text) text[length++] = digits[--n];
  }
  append(": ");
  // strerror is not async-signal-safe; the few errnos these calls give are named here.
  append(error == EINVAL ? "not a core this process may use (EINVAL)"
         : error == ENOENT ? "no such file (ENOENT)"
         : error == EACCES ? "permission denied (EACCES)"
         : error == EPERM ? "not permitted (EPERM)"
                          : "failed");
  [[maybe_unused]] const ssize_t written = ::write(fd, text, length);
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& argv, std::optional<int> cpu,
                             std::chrono::milliseconds ready_within) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  // The child reports a failure before exec here; exec closes it (O_CLOEXEC).
  int failure_fds[2];
  if (::pipe2(failure_fds, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    throw std::system_error(error, std::generic_category(), "pipe2");
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) {
    const int error = errno;
    for (int fd : {pipe_fds[0], pipe_fds[1], failure_fds[0], failure_fds[1]}) ::close(fd);
    throw std::system_error(error, std::generic_category(), "fork");
  }
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    // Only async-signal-safe calls from here: the child of a threaded parent.
    if (cpu && !pin_to_core(*cpu)) {
      report_failure(failure_fds[1], "cannot pin the server to core ", *cpu, errno);
      ::_exit(126);
    }
    ::execvp(args[0], args.data());
    report_failure(failure_fds[1], "cannot run", -1, errno);
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  stdout_fd_ = pipe_fds[0];
  ::close(failure_fds[1]);
  std::string failure;
  char chunk[256];
  for (ssize_t n; (n = ::read(failure_fds[0], chunk, sizeof chunk)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    failure.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(failure_fds[0]);
  if (!failure.empty()) {
    stop(std::chrono::milliseconds(0));
    if (failure.rfind("cannot run:", 0) == 0) failure = "cannot run " + argv.front() + failure.substr(10);
    throw std::runtime_error(failure);
  }

  std::string output;
  std::deque<std::string> last_lines;  // what it said before, for the error
  constexpr std::size_t kLinesKept = 5;
  const auto deadline = Clock::now() + ready_within;
  for (;;) {
    const auto newline = output.find('\n');
    if (newline != std::string::npos) {
      const std::string line = output.substr(0, newline);
      const auto colon = line.rfind(':', line.find(' ', sizeof("listening on")));
      if (line.rfind("listening on ", 0) == 0 && colon != std::string::npos) {
        const char* digits = line.c_str() + colon + 1;
        const auto [end, ec] = std::from_chars(digits, line.c_str() + line.size(), port_);
        if (ec == std::errc{} && port_ != 0) {
          details_ = std::string(end);
          return;
        }
      }
      last_lines.push_back(line);  // some other line: keep reading
      if (last_lines.size() > kLinesKept) last_lines.pop_front();
      output.erase(0, newline + 1);
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd readable{stdout_fd_, POLLIN, 0};
    if (left <= 0 || ::poll(&readable, 1, static_cast<int>(left)) == 0) break;
    char buffer[512];
    const ssize_t n = ::read(stdout_fd_, buffer, sizeof buffer);
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  stop(std::chrono::milliseconds(500));
  std::string said;
  for (const std::string& line : last_lines) said += line + "\n";
  said += output;
  throw std::runtime_error("server " + argv.front() + " did not announce a port; its last output: " +
                           (said.empty() ? std::string("(none)") : said));
}

ServerProcess::~ServerProcess() { stop(); }

bool ServerProcess::running() noexcept {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) != pid_) return true;
  exit_status_ = status;
  pid_ = -1;
  return false;
}

int ServerProcess::stop(std::chrono::milliseconds grace) noexcept {
  int status = std::exchange(exit_status_, -1);
  if (pid_ > 0) {
    // A pidfd becomes readable when the process exits.
    const int exited = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    ::kill(pid_, SIGTERM);
    pollfd gone{exited, POLLIN, 0};
    if (exited < 0 || ::poll(&gone, 1, static_cast<int>(grace.count())) <= 0) ::kill(pid_, SIGKILL);
    if (exited >= 0) ::close(exited);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  if (stdout_fd_ >= 0) ::close(std::exchange(stdout_fd_, -1));
  return status;
}

}  // namespace weft::tool
