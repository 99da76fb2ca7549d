// tools/weft/pin_to_core.hpp — keeping a server or a client on one core, so
// that the shootout measures each on a core of its own.
#pragma once

#include <sched.h>

namespace weft::tool {

// Restricts the calling thread — and the threads and processes it starts
// afterwards — to `core`. Returns false if the kernel refuses (no such core,
// or not one this process may use). Never throws; async-signal-safe, so a
// freshly forked child may call it.
inline bool pin_to_core(int core) noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  return ::sched_setaffinity(0, sizeof set, &set) == 0;
}

}  // namespace weft::tool
