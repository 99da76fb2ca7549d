// weft::Event: a flag bit and a has-waiters bit in one futex word.
#include "weft/threading/event.hpp"

#include "weft/detail/futex.hpp"

namespace weft {

void Event::set() noexcept {
  if ((word_.exchange(kSet, std::memory_order_acq_rel) & kHasWaiters) != 0) detail::futex_wake_all(word_);
}

bool Event::wait_until(const detail::Deadline& deadline) {
  for (;;) {
    std::uint32_t word = word_.load(std::memory_order_acquire);
    if ((word & kSet) != 0) return true;
    if ((word & kHasWaiters) == 0 &&
        !word_.compare_exchange_weak(word, word | kHasWaiters, std::memory_order_relaxed))
      continue;
    if (!detail::futex_wait(word_, kHasWaiters, deadline)) return is_set();
  }
}

}  // namespace weft
