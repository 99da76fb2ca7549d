// weft/detail/lock_tracking.hpp — the hooks weft's locks call into the
// deadlock detector (weft/threading/deadlock.hpp). Off the fast path: a lock
// calls them only while detection is on, or when it was ever tracked.
#pragma once

#include <atomic>
#include <cstdint>

namespace weft::detail {

enum class LockKind : std::uint8_t { plain, recursive };

// What the detector knows of one lock: its node in the graph (0 = none yet)
// and its optional name.
struct LockSite {
  std::atomic<std::uint32_t> node{0};
  const char* name = nullptr;
};

// 0 = off; otherwise a weft::DeadlockMode value.
extern std::atomic<int> g_deadlock_mode;

inline bool lock_tracking_on() noexcept {
  return g_deadlock_mode.load(std::memory_order_relaxed) != 0;
}

// Before a blocking or timed (`timed`) acquisition: may report, throw
// DeadlockError or abort, as the mode says.
void track_before_acquire(LockSite& site, const void* lock, LockKind kind, bool timed);
// After any successful acquisition (not RLock re-entry).
void track_acquired(LockSite& site, const void* lock, LockKind kind) noexcept;
// Before the final release.
void track_released(LockSite& site) noexcept;
// From the lock's destructor, if site.node != 0.
void track_destroyed(LockSite& site) noexcept;

}  // namespace weft::detail
