// cpu_count() and process_cpu_count(): sysconf and sched_getaffinity.
#include "weft/mp/cpu_count.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace weft::mp {

std::size_t cpu_count() noexcept {
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? static_cast<std::size_t>(online) : 1;
}

std::size_t process_cpu_count() noexcept {
  // The mask must cover every CPU the kernel may name; EINVAL means it
  // was too small, so grow it (a kernel with more CPUs than glibc's
  // cpu_set_t holds, 1024).
  for (std::size_t cpus = 1024; cpus <= (std::size_t{1} << 22); cpus *= 2) {
    const std::unique_ptr<cpu_set_t, void (*)(cpu_set_t*)> mask(CPU_ALLOC(cpus), [](cpu_set_t* set) { CPU_FREE(set); });
    if (!mask) break;
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    if (::sched_getaffinity(0, bytes, mask.get()) == 0)
      return std::max<std::size_t>(1, static_cast<std::size_t>(CPU_COUNT_S(bytes, mask.get())));
    if (errno != EINVAL) break;
  }
  return cpu_count();
}

}  // namespace weft::mp
