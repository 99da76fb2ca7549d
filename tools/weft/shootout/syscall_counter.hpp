// tools/weft/shootout/syscall_counter.hpp — counts the system calls a
// process makes over a window, with `perf stat -e raw_syscalls:sys_enter`
// (Debian's linux-perf), which counts at the tracepoint without stopping
// the process, unlike strace.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>

namespace weft::tool {

class SyscallCounter {
 public:
  // Whether perf can count syscalls here (checked once).
  static bool available() noexcept;

  // Starts counting the calls of `pid` (all its threads). Never throws; if
  // perf cannot start, stop() returns nullopt.
  explicit SyscallCounter(pid_t pid) noexcept;
  ~SyscallCounter();
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;

  struct Count {
    std::uint64_t calls;
    double seconds;  // how long it counted
  };
  // Ends the window; blocks until perf has reported (a moment).
  std::optional<Count> stop() noexcept;

 private:
  pid_t perf_ = -1;
  int output_fd_ = -1;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace weft::tool
