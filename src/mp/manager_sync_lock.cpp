// A lock whose owner is a client connection.
#include "manager_sync_lock.hpp"

#include "manager_sync_wait.hpp"

namespace weft::mp::manager::detail {

bool ConnectionLock::acquire(Caller& caller, bool block, std::optional<double> timeout) {
  if (!block && timeout) throw ValueError("can't specify a timeout for a non-blocking call");
  if (recursive_) {
    std::lock_guard guard(book_);
    if (owner_ == caller.connection()) {
      ++levels_;
      return true;
    }
  }
  const bool got = wait_for(caller, block, timeout, NegativeTimeout::refused, [&](std::chrono::nanoseconds slice) {
    return slice == slice.zero() ? lock_.acquire(false) : lock_.acquire(slice);
  });
  if (!got) return false;
  std::lock_guard guard(book_);
  if (released_unrecorded_) {
    // Released by another connection since the take: the acquire succeeded
    // and the lock is free again, owned by nobody.
    released_unrecorded_ = false;
    lock_.release();
    return true;
  }
  owner_ = caller.connection();
  levels_ = 1;
  // A caller gone before it was recorded as owner would never be released
  // by disconnected(): release it here.
  if (!caller.connected()) {
    release_locked();
    require_connected(caller);
  }
  return true;
}

void ConnectionLock::release(Caller& caller) {
  std::lock_guard guard(book_);
  if (recursive_) {
    if (owner_ != caller.connection()) throw RuntimeError("cannot release un-acquired lock");
    if (--levels_ == 0) release_locked();
  } else {
    if (!lock_.locked() || released_unrecorded_) throw RuntimeError("release unlocked lock");
    if (owner_) {
      release_locked();
    } else {
      // Taken by an acquire that has not recorded its owner yet: that
      // acquire lets go when it does, so that it never records itself as
      // the owner of a lock that is no longer its own.
      released_unrecorded_ = true;
    }
  }
}

bool ConnectionLock::locked() const noexcept {
  std::lock_guard guard(book_);
  return lock_.locked() && !released_unrecorded_;
}

void ConnectionLock::disconnected(std::uint64_t connection) {
  std::lock_guard guard(book_);
  if (owner_ == connection) release_locked();
}

std::uint32_t ConnectionLock::disown(Caller& caller, const char* what) {
  std::lock_guard guard(book_);
  if (owner_ != caller.connection()) throw RuntimeError(what);
  const std::uint32_t levels = levels_;
  owner_.reset();
  levels_ = 0;
  return levels;
}

void ConnectionLock::own(Caller& caller, std::uint32_t levels) {
  std::lock_guard guard(book_);
  owner_ = caller.connection();
  levels_ = levels;
}

void ConnectionLock::require_owner(Caller& caller, const char* what) const {
  std::lock_guard guard(book_);
  if (owner_ != caller.connection()) throw RuntimeError(what);
}

// With book_ held.
void ConnectionLock::release_locked() {
  owner_.reset();
  levels_ = 0;
  lock_.release();
}

}  // namespace weft::mp::manager::detail
