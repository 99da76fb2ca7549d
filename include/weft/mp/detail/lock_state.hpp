// weft/mp/detail/lock_state.hpp — the shared state behind weft::mp::Lock and
// RLock, and the operations both (and Condition) are built from.
//
// A RobustMutex does the mutual exclusion; beside it the owner records its
// thread and process ids (to recognise itself, to name a dead owner) and,
// for an RLock, its recursion level. Only the owner writes the record.
#pragma once

#include <atomic>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/robust_mutex.hpp"

namespace weft::mp {

enum class Acquired : int;  // weft/mp/lock.hpp

}  // namespace weft::mp

namespace weft::mp::detail {

struct LockState {
  RobustMutex mutex;
  std::atomic<std::int32_t> owner_tid{0};
  std::atomic<std::int32_t> owner_pid{0};
  std::uint32_t levels = 0;
  bool owner_died = false;
};

// `recursive` selects RLock behaviour. Blocking with a deadline, or one
// try. Throws RuntimeError past the recursion limit, std::system_error on
// an unexpected pthread error. Reports a dead owner on stderr.
Acquired lock_acquire(LockState& state, bool recursive, bool blocking,
                      const weft::detail::Deadline& deadline);

// One level. Throws RuntimeError if another thread holds it (or, for an
// RLock, if the caller does not), ValueError if a Lock is not held.
void lock_release(LockState& state, bool recursive);

bool lock_is_owned(const LockState& state) noexcept;

// Condition::wait's halves: give up every level at once (the caller owns the
// lock), then take the lock back with as many levels. The re-acquisition
// waits forever and reports a dead owner as lock_acquire does.
std::uint32_t lock_release_save(LockState& state) noexcept;
Acquired lock_acquire_restore(LockState& state, bool recursive, std::uint32_t levels);

}  // namespace weft::mp::detail
