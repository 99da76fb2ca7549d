// weft/mp/cpu_count.hpp — how many CPUs there are: Python's
// multiprocessing.cpu_count() (the same as os.cpu_count()) and
// os.process_cpu_count().
//
//   std::printf("%zu\n", mp::cpu_count());        // print(os.cpu_count())
//   mp::Pool pool;                                // process_cpu_count() workers
//
// cpu_count() counts the CPUs the system has online; process_cpu_count()
// counts those this process may run on (its affinity mask, which taskset,
// cgroup cpusets and sched_setaffinity narrow). The defaults that Python
// 3.13 takes from process_cpu_count() take it from here too: Pool's and
// ProcessPoolExecutor's worker count, and ThreadPoolExecutor's
// min(32, process_cpu_count() + 4).
//
// Neither blocks (each reads the kernel's answer afresh, so a CPU taken
// offline or a changed mask shows at the next call) and neither throws:
// where the kernel does not say, the answer is at least 1. Thread- and
// process-safe.
#pragma once

#include <cstddef>

namespace weft::mp {

// The number of CPUs online in the system, at least 1.
std::size_t cpu_count() noexcept;

// The number of CPUs the calling thread may run on (sched_getaffinity), at
// least 1; cpu_count() if the mask cannot be read.
std::size_t process_cpu_count() noexcept;

}  // namespace weft::mp
