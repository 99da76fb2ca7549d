// weft/mp/manager/sync_proxies.hpp — proxies of the synchronisation
// objects a manager holds: Python's AcquirerProxy (Lock, RLock, Semaphore,
// BoundedSemaphore), ConditionProxy, EventProxy and BarrierProxy.
//
// Each is a BaseProxy (weft/mp/manager/proxy.hpp) — copyable, encodable,
// usable from any thread of any process that has it — whose methods run
// on the manager's server, atomically, as Python's do. Make one with the
// manager's Lock(), RLock(), Semaphore(n), BoundedSemaphore(n), Event(),
// Condition() or Barrier(parties, timeout), or wrap a BaseProxy of that
// typeid.
//
// Blocking: the methods that wait (acquire, wait) block the calling thread
// for the server's answer; each takes an optional timeout (any
// std::chrono duration; none waits for ever). A negative timeout is a
// ValueError for acquiring a Lock, an RLock or a Condition's lock, and
// counts as 0 for every other wait, as in Python. Every other method is one
// round trip to the server.
//
// Ownership follows the calling thread's connection, which is the owner
// identity of Python's manager too. An RLock and a Condition may only be
// released by the thread that acquired them (RuntimeError otherwise); a
// Lock may be released by anyone, as in Python.
//
// Failure, where weft differs from Python: when a process (or a thread's
// connection) ends while it holds a Lock, an RLock or a Condition's lock,
// or a BoundedSemaphore it acquired, the server releases it and the next
// waiter gets it — Python's manager keeps it held and every other waiter
// hangs for ever. A plain Semaphore is not given back (it is often a
// signal, released by one process and acquired by another). A process that
// dies while waiting at a Barrier breaks it: the other waiters get
// BrokenBarrierError instead of waiting for a party that is gone. A
// Condition's notify(n) that reached a waiter whose process then ended
// goes on to the next waiter that was already waiting at that notify, if
// any, rather than being lost.
//
// Errors: whatever the method raised on the server, re-thrown with its
// type (RuntimeError, ValueError, BrokenBarrierError); ManagerGoneError
// when the manager is gone.
//
// Thread-safety: every member may be called from any thread, on any copy.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/detail/wait_for_predicate.hpp"
#include "weft/mp/manager/detail/wire_timeout.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/threading/barrier.hpp"

namespace weft::mp {

// A Lock, RLock, Semaphore or BoundedSemaphore on a manager's server.
// Lockable and TimedLockable, so std::lock_guard, std::unique_lock and
// std::scoped_lock work — the C++ spelling of Python's `with lock:`.
class AcquirerProxy : public BaseProxy {
 public:
  explicit AcquirerProxy(BaseProxy base) noexcept : BaseProxy(std::move(base)) {}

  // Python's acquire(blocking, timeout): blocking, waits at most `timeout`
  // (none: for ever) and returns whether it acquired; non-blocking, tries
  // once. Throws ValueError for a timeout with block = false.
  bool acquire(bool block = true, detail::ProxyTimeout timeout = std::nullopt) const {
    return callmethod<bool>("acquire", block, detail::wire_timeout(timeout));
  }
  bool acquire(std::chrono::duration<double> timeout) const { return acquire(true, timeout); }
  // Throws RuntimeError if not held (for an RLock: not by this thread);
  // ValueError if a BoundedSemaphore would exceed its initial value.
  void release() const { callmethod("release"); }
  // Whether anybody holds it (Lock and RLock only; a semaphore throws
  // AttributeError).
  bool locked() const { return callmethod<bool>("locked"); }

  void lock() const { acquire(); }
  bool try_lock() const { return acquire(false); }
  void unlock() const { release(); }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout) const {
    return acquire(true, timeout < timeout.zero() ? timeout.zero() : timeout);
  }
  template <class C, class D>
  bool try_lock_until(std::chrono::time_point<C, D> when) const {
    return try_lock_for(when - C::now());
  }
};

// A Condition on a manager's server, over its own RLock: acquire it
// (or lock it with std::unique_lock) before wait and notify.
class ConditionProxy : public AcquirerProxy {
 public:
  explicit ConditionProxy(BaseProxy base) noexcept : AcquirerProxy(std::move(base)) {}

  // Releases the lock, blocks until notified or `timeout` passes, takes
  // the lock again; returns false on timeout. Throws RuntimeError if this
  // thread does not hold the lock.
  bool wait(detail::ProxyTimeout timeout = std::nullopt) const {
    return callmethod<bool>("wait", detail::wire_timeout(timeout));
  }

  // Waits until pred() is truthy and returns its value; with a timeout,
  // returns pred()'s last value when time runs out. pred runs here, with
  // the lock held, between waits (Python's wait_for).
  template <class Predicate>
  auto wait_for(Predicate pred, detail::ProxyTimeout timeout = std::nullopt) const -> decltype(pred()) {
    const weft::detail::Deadline deadline =
        timeout ? weft::detail::deadline_after_clamped(*timeout) : weft::detail::Deadline{};
    return weft::detail::wait_for_predicate(pred, deadline, [this](const weft::detail::Deadline& until) {
      if (!until) return wait();
      const auto left = *until - weft::detail::Clock::now();
      return wait(std::chrono::duration<double>(left < left.zero() ? left.zero() : left));
    });
  }

  // Wakes up to n waiters. Throws RuntimeError if this thread does not
  // hold the lock.
  void notify(std::size_t n = 1) const { callmethod("notify", n); }
  void notify_all() const { callmethod("notify_all"); }
};

// An Event on a manager's server.
class EventProxy : public BaseProxy {
 public:
  explicit EventProxy(BaseProxy base) noexcept : BaseProxy(std::move(base)) {}

  bool is_set() const { return callmethod<bool>("is_set"); }
  // Raises the flag and wakes every waiter in every process.
  void set() const { callmethod("set"); }
  void clear() const { callmethod("clear"); }
  // Blocks until the flag is raised or `timeout` passes; returns the flag.
  bool wait(detail::ProxyTimeout timeout = std::nullopt) const {
    return callmethod<bool>("wait", detail::wire_timeout(timeout));
  }
};

// A Barrier on a manager's server (without an action: a function cannot
// run in the server on a client's behalf).
class BarrierProxy : public BaseProxy {
 public:
  explicit BarrierProxy(BaseProxy base) noexcept : BaseProxy(std::move(base)) {}

  // Blocks until `parties` waiters have arrived, or `timeout` (none: the
  // barrier's own default) passes; returns this waiter's arrival index.
  // Throws BrokenBarrierError (weft/threading/barrier.hpp) when the
  // barrier is or gets broken: abort(), reset(), a timeout, a waiter that
  // died.
  std::size_t wait(detail::ProxyTimeout timeout = std::nullopt) const {
    return callmethod<std::size_t>("wait", detail::wire_timeout(timeout));
  }
  // Breaks the barrier: waiters and later callers get BrokenBarrierError.
  void abort() const { callmethod("abort"); }
  // Back to its initial state; current waiters get BrokenBarrierError.
  void reset() const { callmethod("reset"); }

  std::size_t parties() const { return callmethod<std::size_t>("parties"); }
  std::size_t n_waiting() const { return callmethod<std::size_t>("n_waiting"); }
  bool broken() const { return callmethod<bool>("broken"); }
};

}  // namespace weft::mp
