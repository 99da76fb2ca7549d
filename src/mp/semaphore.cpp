// weft::mp::Semaphore: a counter in shared memory that is its own futex
// word, and a count of sleepers so that release() only makes the wake-up
// system call when somebody sleeps.
#include "weft/mp/semaphore.hpp"

#include <algorithm>
#include <climits>

#include "weft/detail/futex.hpp"
#include "weft/errors.hpp"

namespace weft::mp {
namespace detail {
namespace {

constexpr int kSpins = 100;
constexpr auto kShared = weft::detail::FutexScope::process_shared;

}  // namespace

bool semaphore_try_acquire(SemaphoreState& state) noexcept {
  std::uint32_t value = state.value.load(std::memory_order_relaxed);
  while (value > 0) {
    if (state.value.compare_exchange_weak(value, value - 1, std::memory_order_acquire,
                                          std::memory_order_relaxed))
      return true;
  }
  return false;
}

bool semaphore_acquire(SemaphoreState& state, const weft::detail::Deadline& deadline) noexcept {
  for (int i = 0; i < kSpins; ++i) {
    if (semaphore_try_acquire(state)) return true;
    weft::detail::cpu_relax();
  }
  state.sleepers.fetch_add(1, std::memory_order_seq_cst);
  bool taken = false;
  for (;;) {
    if ((taken = semaphore_try_acquire(state))) break;
    if (!weft::detail::futex_wait(state.value, 0, deadline, kShared)) {
      taken = semaphore_try_acquire(state);
      break;
    }
  }
  state.sleepers.fetch_sub(1, std::memory_order_relaxed);
  return taken;
}

}  // namespace detail

Semaphore::Semaphore(long long value, bool bounded)
    : state_([&] {
        if (value < 0) throw ValueError("semaphore initial value must be >= 0");
        if (value > static_cast<long long>(kMaxValue))
          throw ValueError("semaphore initial value too large");
        const auto initial = static_cast<std::uint32_t>(value);
        return State::make(detail::StateKind::semaphore, bounded ? "BoundedSemaphore" : "Semaphore",
                           1, initial, bounded ? initial : kMaxValue);
      }()) {}

void Semaphore::release(std::uint32_t n) {
  if (n == 0) throw ValueError("n must be one or more");
  detail::SemaphoreState& state = *state_;
  std::uint32_t value = state.value.load(std::memory_order_relaxed);
  do {
    if (n > state.bound || value > state.bound - n) {
      if (state.bound != kMaxValue) throw ValueError("semaphore or lock released too many times");
      throw ValueError("semaphore value too large");
    }
  } while (!state.value.compare_exchange_weak(value, value + n, std::memory_order_seq_cst,
                                              std::memory_order_relaxed));
  if (state.sleepers.load(std::memory_order_seq_cst) > 0)
    weft::detail::futex_wake(state.value, static_cast<int>(std::min<std::uint32_t>(n, INT_MAX)),
                             detail::kShared);
}

}  // namespace weft::mp
