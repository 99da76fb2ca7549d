// tools/weft/load/server_cpu.hpp — how much CPU time a process has used, as
// the kernel accounts it in /proc/PID/stat: utime + stime summed over all of
// the process's threads (its reaped children are not included), converted
// from clock ticks to seconds with sysconf(_SC_CLK_TCK). The resolution is
// one tick (10 ms at the usual 100 Hz), so sample over windows of seconds.
#pragma once

#include <sys/types.h>

#include <optional>

namespace weft::tool {

struct ProcessCpu {
  double user_seconds = 0.0;
  double system_seconds = 0.0;
  double total_seconds() const noexcept { return user_seconds + system_seconds; }
};

// Reads /proc/PID/stat once. Returns nullopt if the process does not exist
// (or its stat file cannot be read or parsed). Does not block beyond one
// procfs read; never throws; thread-safe.
std::optional<ProcessCpu> read_process_cpu(pid_t pid) noexcept;

// The same summed over `pid` and every process descended from it (found
// through /proc/PID/task/TID/children), for servers that fork a process
// per connection or a pool of workers. A child that exits between two
// samples takes its time with it, so sample while the tree is steady.
// Returns nullopt if `pid` itself cannot be read; never throws.
std::optional<ProcessCpu> read_process_tree_cpu(pid_t pid) noexcept;

}  // namespace weft::tool
