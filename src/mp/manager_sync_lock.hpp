// A lock whose owner is a client connection: what a manager's Lock, RLock
// and Condition stand on. The connection that acquired it owns it; a
// recursive one may re-acquire it and only its owner may release it, a
// plain one may be released by anyone (Python's rules for RLock and Lock).
// When the owner's connection ends, disconnected() releases it, so a
// client killed while holding it does not deadlock the others.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "weft/mp/manager/managed.hpp"
#include "weft/threading/lock.hpp"

namespace weft::mp::manager::detail {

class ConnectionLock {
 public:
  explicit ConnectionLock(bool recursive) noexcept : recursive_(recursive) {}

  // Python's acquire(block, timeout), blocking in slices. Throws
  // ValueError for a timeout without `block` or a negative one,
  // ManagerGoneError when the caller hangs up first.
  bool acquire(Caller& caller, bool block, std::optional<double> timeout);
  // Throws RuntimeError if the lock is not held (recursive: not held by
  // the caller).
  void release(Caller& caller);
  bool locked() const noexcept;
  // Releases the lock, every level, if `connection` holds it.
  void disconnected(std::uint64_t connection);

  // For a condition's wait: gives up the ownership record (not the lock
  // itself) and returns the recursion level; throws RuntimeError with
  // `what` if the caller is not the owner.
  std::uint32_t disown(Caller& caller, const char* what);
  // Records the caller as owner again after the wait re-took the lock.
  void own(Caller& caller, std::uint32_t levels);
  // Throws RuntimeError with `what` unless the caller owns the lock.
  void require_owner(Caller& caller, const char* what) const;
  // The lock itself, for a condition to wait on.
  weft::Lock& lock() noexcept { return lock_; }

 private:
  void release_locked();

  const bool recursive_;
  weft::Lock lock_;
  // Guards owner_, levels_ and released_unrecorded_. An acquire takes
  // lock_ first and records its owner under book_ after: in between, lock_
  // is held with no owner recorded.
  mutable std::mutex book_;
  std::optional<std::uint64_t> owner_;
  std::uint32_t levels_ = 0;
  // A plain lock released in that gap: its acquirer lets go of lock_
  // instead of recording itself as the owner.
  bool released_unrecorded_ = false;
};

}  // namespace weft::mp::manager::detail
