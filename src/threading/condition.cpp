// weft::Condition's wait: release the lock completely, park, re-acquire.
#include "weft/threading/condition.hpp"

namespace weft {

bool Condition::wait_until(const detail::Deadline& deadline) {
  require_owned("cannot wait on un-acquired lock");
  if (lock_ != nullptr) {
    return waiters_.wait(deadline, [this] { lock_->release(); }, [this] { lock_->reacquire(); }, queue_guard_);
  }
  std::uint32_t levels = 0;
  return waiters_.wait(deadline, [&] { levels = rlock_->release_fully(); },
                       [&] { rlock_->reacquire(levels); });
}

}  // namespace weft
