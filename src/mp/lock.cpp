// weft::mp::Lock and RLock over a RobustMutex and an owner record.
#include "weft/mp/lock.hpp"

#include <unistd.h>

#include <cstdint>
#include <string>

#include "weft/errors.hpp"
#include "weft/mp/detail/thread_id.hpp"

namespace weft::mp::detail {
namespace {

// One line, one write: the dead owner's ids are those it recorded (0 if it
// died between taking the mutex and recording itself).
void report_owner_died(const LockState& state, bool recursive) {
  const std::int32_t pid = state.owner_pid.load(std::memory_order_relaxed);
  const std::int32_t tid = state.owner_tid.load(std::memory_order_relaxed);
  std::string line = std::string("weft: multiprocessing ") + (recursive ? "RLock" : "Lock");
  if (pid != 0) {
    line += ": its owner (process " + std::to_string(pid) + ", thread " + std::to_string(tid) +
            ") died holding it";
  } else {
    line += ": its owner died holding it";
  }
  line += "; process " + std::to_string(this_process_id()) +
          " took it over (the state it guarded may be inconsistent)\n";
  [[maybe_unused]] const auto written = ::write(STDERR_FILENO, line.data(), line.size());
}

Acquired take_ownership(LockState& state, RobustMutex::Locked locked, bool recursive,
                        std::uint32_t levels) {
  if (locked == RobustMutex::Locked::no) return Acquired::no;
  const bool died = locked == RobustMutex::Locked::owner_died;
  if (died) report_owner_died(state, recursive);
  state.owner_pid.store(this_process_id(), std::memory_order_relaxed);
  state.owner_tid.store(this_thread_id(), std::memory_order_relaxed);
  state.levels = levels;
  state.owner_died = died;
  return died ? Acquired::owner_died : Acquired::yes;
}

}  // namespace

// The owner record alone could name a thread that died holding the lock
// and whose id the kernel has since given to a new thread.
bool lock_is_owned(const LockState& state) noexcept {
  const std::int32_t me = this_thread_id();
  return state.owner_tid.load(std::memory_order_relaxed) == me && state.mutex.held_by(me);
}

Acquired lock_acquire(LockState& state, bool recursive, bool blocking,
                      const weft::detail::Deadline& deadline) {
  if (recursive && lock_is_owned(state)) {
    if (state.levels == UINT32_MAX) throw RuntimeError("RLock recursion limit exceeded");
    ++state.levels;
    return Acquired::yes;
  }
  const auto locked = blocking ? state.mutex.lock(deadline) : state.mutex.try_lock();
  return take_ownership(state, locked, recursive, 1);
}

void lock_release(LockState& state, bool recursive) {
  if (!lock_is_owned(state)) {
    if (recursive) throw RuntimeError("cannot release un-acquired lock");
    if (state.owner_tid.load(std::memory_order_relaxed) == 0)
      throw ValueError("semaphore or lock released too many times");
    throw RuntimeError("a process-shared Lock can only be released by the thread holding it");
  }
  if (--state.levels == 0) lock_release_save(state);
}

std::uint32_t lock_release_save(LockState& state) noexcept {
  const std::uint32_t levels = state.levels;
  state.levels = 0;
  state.owner_died = false;
  state.owner_tid.store(0, std::memory_order_relaxed);
  state.owner_pid.store(0, std::memory_order_relaxed);
  state.mutex.unlock();
  return levels;
}

Acquired lock_acquire_restore(LockState& state, bool recursive, std::uint32_t levels) {
  return take_ownership(state, state.mutex.lock(), recursive, levels);
}

}  // namespace weft::mp::detail
