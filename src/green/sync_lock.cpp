// Semaphore, BoundedSemaphore, Lock and RLock (weft/green/lock.hpp).
#include "weft/green/lock.hpp"

#include "weft/errors.hpp"

namespace weft::green {

Semaphore::Semaphore(long long value, long long bound, OverRelease over_release)
    : counter_(value), bound_(bound), over_release_(over_release) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
}

void Semaphore::hand_on() noexcept {
  if (waiters_.notify_one()) {
    ++in_flight_;
  } else {
    ++counter_;
  }
}

bool Semaphore::acquire(bool blocking, std::optional<std::chrono::duration<double>> timeout) {
  // A free permit means nobody waits: release() hands permits to waiters.
  if (counter_ > 0) {
    --counter_;
    return true;
  }
  if (!blocking) return false;
  const detail::Notice notice = detail::wait_for_notice(waiters_, "Semaphore.acquire", detail::deadline_for(timeout),
                                                        [this](detail::Notice) { give_back(); });
  if (notice == detail::kNoNotice) return false;
  --in_flight_;
  return true;
}

void Semaphore::release() {
  // Permits on their way to waiters are not free, but they are not held
  // either: they count against the bound.
  if (counter_ + in_flight_ >= bound_) {
    if (over_release_ == OverRelease::runtime_error) throw RuntimeError("release unlocked lock");
    if (over_release_ == OverRelease::value_error) throw ValueError("Semaphore released too many times");
  }
  hand_on();
}

long long Semaphore::wait(std::optional<std::chrono::duration<double>> timeout) {
  if (counter_ > 0) return counter_;
  const detail::Notice notice = detail::wait_for_notice(waiters_, "Semaphore.wait", detail::deadline_for(timeout),
                                                        [this](detail::Notice) { give_back(); });
  if (notice == detail::kNoNotice) return counter_;
  // The permit handed to it is free: counted, then passed on (to the next
  // waiter, which may be another wait() that counts it in turn).
  const long long free = counter_ + 1;
  give_back();
  return free;
}

bool RLock::is_owned() const { return count_ != 0 && owner_ == greenlet::getcurrent(); }

bool RLock::acquire(bool blocking, std::optional<std::chrono::duration<double>> timeout) {
  greenlet current = greenlet::getcurrent();
  if (count_ != 0 && owner_ == current) {
    ++count_;
    return true;
  }
  if (!block_.acquire(blocking, timeout)) return false;
  owner_ = std::move(current);
  count_ = 1;
  return true;
}

void RLock::release() {
  if (!is_owned()) throw RuntimeError("cannot release un-acquired lock");
  if (--count_ == 0) {
    owner_ = greenlet();
    block_.release();
  }
}

}  // namespace weft::green
