// weft::Lock and weft::RLock slow paths, and the futex mutex under them.
#include "weft/threading/lock.hpp"

namespace weft {
namespace detail {

bool FutexMutex::lock_contended(const Deadline& deadline) noexcept {
  constexpr int kSpins = 100;
  for (int i = 0; i < kSpins; ++i) {
    if (state_.load(std::memory_order_relaxed) == kUnlocked && try_lock()) return true;
    cpu_relax();
  }
  // From here on the word says "contended", so the unlocker wakes a sleeper.
  while (state_.exchange(kContended, std::memory_order_acquire) != kUnlocked) {
    if (!futex_wait(state_, kContended, deadline))
      return state_.exchange(kContended, std::memory_order_acquire) == kUnlocked;
  }
  return true;
}

}  // namespace detail

bool Lock::acquire_tracked(bool blocking, const detail::Deadline& deadline) {
  if (blocking) detail::track_before_acquire(site_, this, detail::LockKind::plain, deadline.has_value());
  const bool got = blocking ? mutex_.lock_until(deadline) : mutex_.try_lock();
  if (got) detail::track_acquired(site_, this, detail::LockKind::plain);
  return got;
}

void Lock::reacquire() noexcept {
  mutex_.lock();
  if (detail::lock_tracking_on()) detail::track_acquired(site_, this, detail::LockKind::plain);
}

bool RLock::acquire_tracked(bool blocking, const detail::Deadline& deadline) {
  if (blocking) detail::track_before_acquire(site_, this, detail::LockKind::recursive, deadline.has_value());
  const bool got = blocking ? mutex_.lock_until(deadline) : mutex_.try_lock();
  if (got) detail::track_acquired(site_, this, detail::LockKind::recursive);
  return got;
}

void RLock::reacquire(std::uint32_t levels) noexcept {
  mutex_.lock();
  if (detail::lock_tracking_on()) detail::track_acquired(site_, this, detail::LockKind::recursive);
  take_ownership(levels);
}

}  // namespace weft
