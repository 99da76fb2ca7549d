// weft/detail/futex_mutex.hpp — a three-state futex mutex (unlocked, locked,
// locked with sleepers) that spins briefly before it sleeps.
//
// The building block of weft::Lock, weft::RLock and every internal lock.
// It has no owner: any thread may unlock it, as Python's Lock allows.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/futex.hpp"

namespace weft::detail {

class FutexMutex {
 public:
  constexpr FutexMutex() noexcept = default;
  FutexMutex(const FutexMutex&) = delete;
  FutexMutex& operator=(const FutexMutex&) = delete;

  bool try_lock() noexcept {
    std::uint32_t expected = kUnlocked;
    return state_.compare_exchange_strong(expected, kLocked, std::memory_order_acquire,
                                          std::memory_order_relaxed);
  }

  void lock() noexcept {
    if (!try_lock()) lock_contended(std::nullopt);
  }

  // Returns false if the deadline passed first.
  bool lock_until(const Deadline& deadline) noexcept {
    return try_lock() || lock_contended(deadline);
  }

  // Returns false, and changes nothing, if the mutex was not locked.
  bool unlock() noexcept {
    const std::uint32_t previous = state_.exchange(kUnlocked, std::memory_order_release);
    if (previous == kContended) futex_wake(state_, 1);
    return previous != kUnlocked;
  }

  bool locked() const noexcept { return state_.load(std::memory_order_relaxed) != kUnlocked; }

 private:
  static constexpr std::uint32_t kUnlocked = 0;
  static constexpr std::uint32_t kLocked = 1;
  static constexpr std::uint32_t kContended = 2;

  bool lock_contended(const Deadline& deadline) noexcept;

  std::atomic<std::uint32_t> state_{kUnlocked};
};

// The calling thread's identity as a number, unique among live threads.
inline std::uintptr_t this_thread_token() noexcept {
  return reinterpret_cast<std::uintptr_t>(__builtin_thread_pointer());
}

}  // namespace weft::detail
