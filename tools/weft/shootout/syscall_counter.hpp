// tools/weft/shootout/syscall_counter.hpp — counts the system calls a
// process makes over a window, with `perf stat -e raw_syscalls:sys_enter`
// (Debian's linux-perf), which counts at the tracepoint without stopping
// the process, unlike strace. perf is attached first with counting off
// (--delay=-1) and switched on and off through its --control descriptors,
// so the window is exactly the one between enable() and disable().
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace weft::tool {

class SyscallCounter {
 public:
  // Whether perf can count syscalls here (checked once; blocks for one
  // short perf run the first time).
  static bool available() noexcept;

  // Attaches perf to `pid` (all its threads) with counting off. Never
  // throws; if perf cannot start, enable() returns false and stop()
  // nullopt.
  explicit SyscallCounter(pid_t pid) noexcept;
  ~SyscallCounter();
  SyscallCounter(const SyscallCounter&) = delete;
  SyscallCounter& operator=(const SyscallCounter&) = delete;

  // Start and end of the window. Each blocks until perf acknowledges (it
  // may still be attaching: up to 5 s), and returns false if it did not —
  // then stop() gives nullopt.
  bool enable() noexcept;
  bool disable() noexcept;

  // The calls counted between enable() and disable(). Blocks until perf
  // has reported, at most 5 s; perf is killed if it has not by then.
  std::optional<std::uint64_t> stop() noexcept;

 private:
  bool command(const char* text) noexcept;

  pid_t perf_ = -1;
  int output_fd_ = -1;   // perf's stderr, where it reports
  int control_fd_ = -1;  // we write "enable" / "disable"
  int ack_fd_ = -1;      // perf answers "ack"
  bool failed_ = false;
  bool enabled_once_ = false;
};

}  // namespace weft::tool
