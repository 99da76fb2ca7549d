// The futex word of weft::Event and weft::mp::Event (weft/detail/event_word.hpp).
#include "weft/detail/event_word.hpp"

namespace weft::detail::event_word {

void set(std::atomic<std::uint32_t>& word, FutexScope scope) noexcept {
  const std::uint32_t dropped = scope == FutexScope::process_shared ? 0 : kHasWaiters;
  std::uint32_t seen = word.load(std::memory_order_relaxed);
  while (!word.compare_exchange_weak(seen, ((seen & ~dropped) | kSet) + kOneSet, std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
  }
  if ((seen & kHasWaiters) != 0) futex_wake_all(word, scope);
}

bool wait_until(std::atomic<std::uint32_t>& word, const Deadline& deadline, FutexScope scope) {
  std::uint32_t seen = word.load(std::memory_order_acquire);
  const std::uint32_t sets_before = seen & ~(kSet | kHasWaiters);
  const auto done = [&] { return (seen & kSet) != 0 || (seen & ~(kSet | kHasWaiters)) != sets_before; };
  for (;;) {
    if (done()) return true;
    if ((seen & kHasWaiters) == 0) {
      if (!word.compare_exchange_weak(seen, seen | kHasWaiters, std::memory_order_acquire)) continue;
      seen |= kHasWaiters;
    }
    const bool woken = futex_wait(word, seen, deadline, scope);
    seen = word.load(std::memory_order_acquire);
    if (!woken) return done();
  }
}

}  // namespace weft::detail::event_word
