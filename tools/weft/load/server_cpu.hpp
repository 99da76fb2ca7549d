// tools/weft/load/server_cpu.hpp — how much CPU time a process has used:
// its own (every thread's, live or exited), in nanoseconds from its CPU
// clock (clock_getcpuclockid + clock_gettime, which Linux lets a process
// read for any other), or where that fails as /proc/PID/stat's utime +
// stime in clock ticks (10 ms at the usual 100 Hz); and the time of the
// children it has reaped (cutime + cstime, in ticks, summed by the kernel in
// nanoseconds and rounded once), which keeps a child's time counted after
// the child is gone — if its parent waits for it.
#pragma once

#include <sys/types.h>

#include <optional>

namespace weft::tool {

struct ProcessCpu {
  double user_seconds = 0.0;    // utime of its threads, tick resolution
  double system_seconds = 0.0;  // stime of its threads, tick resolution
  std::optional<double> exact_seconds;  // its own time (user + system) from its CPU clock, if readable
  double children_seconds = 0.0;        // cutime + cstime: reaped children (and theirs)
  double own_seconds() const noexcept { return exact_seconds.value_or(user_seconds + system_seconds); }
  double total_seconds() const noexcept { return own_seconds() + children_seconds; }
};

// Reads /proc/PID/stat once. Returns nullopt if the process does not exist
// (or its stat file cannot be read or parsed). Does not block beyond one
// procfs read; never throws; thread-safe.
std::optional<ProcessCpu> read_process_cpu(pid_t pid) noexcept;

// The same summed over `pid` and every process descended from it (found
// through /proc/PID/task/TID/children), for servers that fork a process
// per connection or a pool of workers. A child that exits between two
// samples keeps its time in the total once its parent has reaped it
// (through the parent's cutime/cstime); one whose parent ignores SIGCHLD
// (so the kernel reaps it) takes its time with it.
// Returns nullopt if `pid` itself cannot be read; never throws.
std::optional<ProcessCpu> read_process_tree_cpu(pid_t pid) noexcept;

}  // namespace weft::tool
