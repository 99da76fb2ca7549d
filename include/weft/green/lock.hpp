// weft/green/lock.hpp — gevent.lock for greenlets: Semaphore,
// BoundedSemaphore, Lock and RLock.
//
// Semaphore(n) counts permits: acquire() takes one, parking the calling
// greenlet while there is none; release() returns one. Waiters get permits
// strictly in the order they began to wait: release() hands its permit
// straight to the longest waiter, so a greenlet that arrives later cannot
// take it first. BoundedSemaphore refuses a release above its initial value
// (weft::ValueError), Lock is a BoundedSemaphore(1) whose bad release is a
// weft::RuntimeError (gevent's thread.LockType), and RLock may be
// re-acquired by the greenlet that holds it.
//
// All four have lock()/try_lock()/unlock(), so std::lock_guard,
// std::unique_lock and std::scoped_lock work with them — the C++ spelling
// of Python's `with lock:`.
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. A wait that nothing can end raises LoopExit
// (naming "Semaphore.acquire"). A Timeout or GreenletExit thrown into a
// waiting greenlet ends its wait cleanly: it holds no permit afterwards, and
// a permit that was on its way to it goes to the next waiter.
//
// Thread-safety: these belong to the hub of one thread; use them only from
// greenlets of that thread (weft::Lock and friends are the thread-safe
// ones). Not copyable or movable; destroying one that greenlets wait on is
// undefined behaviour.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>

#include "weft/green/detail/wait_list.hpp"
#include "weft/green/greenlet.hpp"

namespace weft::green {

class Semaphore {
 public:
  // Throws weft::ValueError if value is negative.
  explicit Semaphore(long long value = 1) : Semaphore(value, kUnbounded, OverRelease::allowed) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Takes a permit. blocking: parks until one is free (at most `timeout`;
  // zero or less: not at all) and returns whether it got one. Non-blocking:
  // returns false at once if none is free. Rethrows what is thrown into the
  // greenlet while it waits (Timeout, GreenletExit) without taking one.
  bool acquire(bool blocking = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt);
  // Returns a permit: to the longest waiter if there is one, else to the
  // counter. Never blocks or switches. Over-releasing a plain Semaphore is
  // allowed (it models new resources, as in gevent); BoundedSemaphore
  // throws weft::ValueError, Lock weft::RuntimeError.
  void release();

  // gevent's Semaphore.wait(): parks until a permit is free (at most
  // `timeout`) without taking it; returns the free permits then (at least
  // 1: every wait() a release reaches sees its permit free, even if an
  // acquire() waiting behind it takes it next), or the counter (0) if the
  // timeout passed first.
  long long wait(std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  // Free permits (gevent's `counter` attribute).
  long long counter() const noexcept { return counter_; }
  // Whether acquire() would block (no free permit).
  bool locked() const noexcept { return counter_ <= 0; }
  // Whether acquire() would not block.
  bool ready() const noexcept { return counter_ > 0; }

  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

 protected:
  enum class OverRelease : std::uint8_t { allowed, value_error, runtime_error };
  static constexpr long long kUnbounded = std::numeric_limits<long long>::max();

  Semaphore(long long value, long long bound, OverRelease over_release);

 private:
  // Gives a free permit to the longest waiter, else adds it to the counter.
  void hand_on() noexcept;
  // What a waiter whose permit arrived does with it when it cannot use it.
  void give_back() noexcept {
    --in_flight_;
    hand_on();
  }

  detail::WaitList waiters_;
  long long counter_;
  long long in_flight_ = 0;  // permits handed to waiters that have not resumed yet
  const long long bound_;
  const OverRelease over_release_;
};

// A Semaphore that may not be released above its initial value.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(long long value = 1) : Semaphore(value, value, OverRelease::value_error) {}
};

// A mutual-exclusion lock without an owner: any greenlet may release it.
// release() of an unlocked Lock throws weft::RuntimeError, as
// threading.Lock does.
class Lock : public Semaphore {
 public:
  Lock() : Semaphore(1, 1, OverRelease::runtime_error) {}
};

// A lock its holder may acquire again (each acquire needs a release); owned
// by the greenlet that acquired it.
class RLock {
 public:
  RLock() = default;
  RLock(const RLock&) = delete;
  RLock& operator=(const RLock&) = delete;

  // Takes the lock, or one more level of it if the calling greenlet holds
  // it already (never blocking then). Otherwise as Semaphore::acquire.
  bool acquire(bool blocking = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt);
  // Gives up one level; the lock is free when none is left. Throws
  // weft::RuntimeError if the calling greenlet does not hold it. Never
  // blocks or switches.
  void release();

  // Whether some greenlet holds it.
  bool locked() const noexcept { return block_.locked(); }
  // Whether the calling greenlet holds it (Python's _is_owned()).
  bool is_owned() const;

  void lock() { acquire(); }
  bool try_lock() { return acquire(false); }
  void unlock() { release(); }

 private:
  Semaphore block_{1};
  greenlet owner_;
  unsigned long long count_ = 0;
};

}  // namespace weft::green
