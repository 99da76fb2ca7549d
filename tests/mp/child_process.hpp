// Child, the child process of the multiprocessing tests: a forked function or a program with
// its standard output piped back, always killed (if still running) and reaped.
#pragma once

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "threading/test_support.hpp"

namespace weft::test {

// A child process, killed (if still running) and reaped when this goes out of scope.
class Child {
 public:
  // Forks; the child runs body() and exits 0 when it returns, 1 when it throws.
  template <class Body>
  static Child fork(Body body) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      int status = 0;
      try {
        body();
      } catch (...) {
        status = 1;
      }
      ::_exit(status);
    }
    return Child(pid, -1);
  }

  // Runs the program argv[0] with its standard output connected to read_line().
  static Child exec(const std::vector<std::string>& argv) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ::close(out[1]);
    return Child(pid, out[0]);
  }

  // Takes charge of a child process started otherwise (its output is not piped).
  static Child adopt(pid_t pid) { return Child(pid, -1); }

  Child(Child&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), out_(std::exchange(other.out_, -1)) {}
  Child& operator=(Child&&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }

  pid_t pid() const { return pid_; }

  // The next line the program printed (without its newline); nullopt at end of output or after
  // `patience`.
  std::optional<std::string> read_line(Clock::duration patience = kPatience) {
    const auto deadline = Clock::now() + patience;
    while (true) {
      const auto newline = buffered_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffered_.substr(0, newline);
        buffered_.erase(0, newline + 1);
        return line;
      }
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd entry{out_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&entry, 1, static_cast<int>(left.count())) <= 0)
        return std::nullopt;
      char chunk[256];
      const ssize_t got = ::read(out_, chunk, sizeof chunk);
      if (got <= 0) return std::nullopt;
      buffered_.append(chunk, static_cast<std::size_t>(got));
    }
  }

  // Waits at most `patience` for the child to end; returns its exit status (128 + signal when
  // killed by one), or -1 if it is still running (it is then killed and reaped).
  int wait(Clock::duration patience = kPatience) {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd >= 0) {
      pollfd entry{pidfd, POLLIN, 0};
      const auto ms = std::chrono::ceil<std::chrono::milliseconds>(patience).count();
      ::poll(&entry, 1, static_cast<int>(ms));
      ::close(pidfd);
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  // Kills the child with `signal` and reaps it; returns what wait() returns.
  int kill(int signal = SIGKILL) {
    ::kill(pid_, signal);
    return wait();
  }

  // Whether the child's main thread is asleep in the kernel (state S).
  bool asleep() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'S';
  }

 private:
  Child(pid_t pid, int out) : pid_(pid), out_(out) {}

  pid_t pid_;
  int out_;
  std::string buffered_;
};

// Exit status of a child that could not arm die_at_shared_futex_wake().
inline constexpr int kNoSeccomp = 77;

// Makes the calling process die of SIGSYS at its next process-shared
// FUTEX_WAKE system call, as if a SIGKILL landed just before it: the wake-up
// never happens. Call in a forked child; it exits with kNoSeccomp if the
// system refuses the filter.
inline void die_at_shared_futex_wake() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_futex, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAKE, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
    ::_exit(kNoSeccomp);
}

}  // namespace weft::test
