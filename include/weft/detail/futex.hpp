// weft/detail/futex.hpp — the Linux futex, the one primitive every weft
// blocking object parks on.
//
// Waits are absolute deadlines on CLOCK_MONOTONIC. Every caller must tolerate
// spurious wake-ups (re-check its condition and wait again): a futex word may
// be woken by a stale waker after its owner reused the memory.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/deadline.hpp"

namespace weft::detail {

// Whether the futex word lives in memory shared between processes.
enum class FutexScope { process_private, process_shared };

// Blocks while `word == expected`, until woken or the deadline passes.
// Returns false only when the deadline passed; true on a wake-up, a spurious
// wake-up, a signal, or a word that already differed.
bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const Deadline& deadline,
                FutexScope scope = FutexScope::process_private) noexcept;

// Wakes up to `count` waiters on `word`. Safe to call on memory that a woken
// waiter has already released (the kernel treats it as a spurious wake).
void futex_wake(std::atomic<std::uint32_t>& word, int count,
                FutexScope scope = FutexScope::process_private) noexcept;

inline void futex_wake_all(std::atomic<std::uint32_t>& word,
                           FutexScope scope = FutexScope::process_private) noexcept {
  futex_wake(word, 0x7fffffff, scope);
}

// One pause of a spin-wait loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace weft::detail
