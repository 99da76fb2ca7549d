// weft::mp::Event: a flag bit and a has-waiters bit in one process-shared
// futex word.
#include "weft/mp/event.hpp"

#include "weft/detail/futex.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;

}  // namespace

void Event::set() noexcept {
  if ((word().exchange(kSet, std::memory_order_acq_rel) & kHasWaiters) != 0)
    weft::detail::futex_wake_all(word(), kShared);
}

bool Event::wait_until(const weft::detail::Deadline& deadline) {
  std::atomic<std::uint32_t>& flag = word();
  for (;;) {
    std::uint32_t seen = flag.load(std::memory_order_acquire);
    if ((seen & kSet) != 0) return true;
    if ((seen & kHasWaiters) == 0 &&
        !flag.compare_exchange_weak(seen, seen | kHasWaiters, std::memory_order_relaxed))
      continue;
    if (!weft::detail::futex_wait(flag, kHasWaiters, deadline, kShared)) return is_set();
  }
}

}  // namespace weft::mp
