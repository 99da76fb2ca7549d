// tools/weft/pin_to_core.hpp — keeping a server or a client on one core, so
// that the shootout measures each on a core of its own.
#pragma once

#include <sched.h>

#include <optional>

namespace weft::tool {

// Restricts the calling thread — and the threads and processes it starts
// afterwards — to `core`. Returns false if the kernel refuses (no such core,
// or not one this process may use). Never throws; async-signal-safe, so a
// freshly forked child may call it.
inline bool pin_to_core(int core) noexcept {
  if (core < 0 || core >= CPU_SETSIZE) return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

// The CPUs the calling thread may run on (sched_getaffinity), which under
// taskset or a cgroup's cpuset are fewer than the machine has. Empty if the
// kernel will not say. Never throws.
inline cpu_set_t allowed_cores() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) != 0) CPU_ZERO(&set);
  return set;
}

struct CorePair {
  int server;
  int client;
};

// The two lowest-numbered CPUs of `allowed`: the server's, then the
// client's. nullopt if it holds fewer than two (then nothing can have a
// core of its own). Never throws.
inline std::optional<CorePair> first_two_cores(const cpu_set_t& allowed) noexcept {
  int found[2];
  int count = 0;
  for (int core = 0; core < CPU_SETSIZE && count < 2; ++core)
    if (CPU_ISSET(core, &allowed)) found[count++] = core;
  if (count < 2) return std::nullopt;
  return CorePair{found[0], found[1]};
}

}  // namespace weft::tool
