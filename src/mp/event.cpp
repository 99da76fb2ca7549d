// weft::mp::Event: a flag bit and a has-waiters bit in one process-shared
// futex word. The has-waiters bit, once raised, stays: a set() killed
// between raising the flag and its wake-up leaves it, so the next set()
// still wakes the sleepers.
#include "weft/mp/event.hpp"

#include "weft/detail/futex.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;

}  // namespace

void Event::set() noexcept {
  if ((word().fetch_or(kSet, std::memory_order_acq_rel) & kHasWaiters) != 0)
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
