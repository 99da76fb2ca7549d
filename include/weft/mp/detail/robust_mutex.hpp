// weft/mp/detail/robust_mutex.hpp — a mutex that lives in shared memory and
// survives the death of its owner.
//
// A process-shared, robust pthread mutex: when the thread holding it dies
// (the process was SIGKILLed, crashed, or the thread exited), the kernel
// marks it and the next locker takes it over and is told so, instead of
// waiting forever. The building block of weft::mp's Lock, RLock and
// Condition and of the queues' rings.
//
// Construct it in place in a SharedBlock (placement new) by the process
// that creates the block; other processes use the same bytes and never
// construct or destroy it. Only the owning thread may unlock.
#pragma once

#include <pthread.h>

#include <cstdint>

#include "weft/detail/deadline.hpp"

namespace weft::mp::detail {

class RobustMutex {
 public:
  enum class Locked {
    no,          // the deadline passed first
    yes,         // acquired
    owner_died,  // acquired from a holder that died; what it guards may be half-updated
  };

  // Throws std::system_error if the mutex cannot be initialised.
  RobustMutex();
  RobustMutex(const RobustMutex&) = delete;
  RobustMutex& operator=(const RobustMutex&) = delete;
  ~RobustMutex();

  // Blocks until acquired or the deadline passes. A relocking by the owner
  // is a deadlock the mutex does not detect (callers that allow recursion
  // track the owner themselves). Recovery makes the mutex consistent again
  // before returning owner_died. Throws std::system_error on an unexpected
  // pthread error.
  Locked lock(const weft::detail::Deadline& deadline = std::nullopt);

  // Never blocks.
  Locked try_lock();

  // Returns false, changing nothing, if the calling thread does not own it.
  bool unlock() noexcept;

  // Whether the thread with kernel id `tid` holds it, as the kernel sees
  // it: the futex word holds the owner's id, which the kernel replaces when
  // the owner dies, so an id recycled for a new thread owns nothing. Never
  // blocks.
  bool held_by(std::int32_t tid) const noexcept;

 private:
  Locked settle(int result);

  pthread_mutex_t mutex_;
};

}  // namespace weft::mp::detail
