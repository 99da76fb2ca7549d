// weft/detail/event_word.hpp — the futex word behind weft::Event and
// weft::mp::Event: a flag bit, a has-waiters bit, and above them a count
// of set() calls.
//
// wait_until returns true once the flag is up, or once a set() came after
// the wait began even if a clear() lowered the flag again before the waiter
// woke: Python's Event.wait returns True when it was notified. set() wakes
// every sleeper. On a process-shared word the has-waiters bit, once up,
// stays: a process killed inside set(), between raising the flag and the
// wake-up, must not leave the next set() unaware of the sleepers (the
// price: once somebody has waited, each set() makes a system call).
//
// Every function may be called concurrently from any thread (and, on a
// process-shared word, any process); wait_until blocks.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex.hpp"

namespace weft::detail::event_word {

inline constexpr std::uint32_t kSet = 1;
inline constexpr std::uint32_t kHasWaiters = 2;
inline constexpr std::uint32_t kOneSet = 4;  // the unit of the set() count

inline bool is_set(const std::atomic<std::uint32_t>& word) noexcept {
  return (word.load(std::memory_order_acquire) & kSet) != 0;
}

// Lowers the flag. Never blocks, makes no system call.
inline void clear(std::atomic<std::uint32_t>& word) noexcept { word.fetch_and(~kSet, std::memory_order_relaxed); }

// Raises the flag and wakes every waiter. Never blocks.
void set(std::atomic<std::uint32_t>& word, FutexScope scope) noexcept;

// Blocks until the flag is raised or set() is called, or the deadline
// passes; returns false only then.
bool wait_until(std::atomic<std::uint32_t>& word, const Deadline& deadline, FutexScope scope);

}  // namespace weft::detail::event_word
