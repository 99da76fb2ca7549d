// The manager's "Condition": Python's threading.Condition over an RLock
// owned by a client connection.
#include <algorithm>
#include <array>
#include <cstdint>
#include <condition_variable>
#include <limits>
#include <list>
#include <mutex>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_lock.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedCondition final : public Dispatching<ManagedCondition> {
 public:
  ManagedCondition() : Dispatching("Condition"), lock_(true) {}

  bool acquire(Caller& caller, bool block, std::optional<double> timeout) {
    return lock_.acquire(caller, block, timeout);
  }
  void release(Caller& caller) { lock_.release(caller); }
  bool locked(Caller&) { return lock_.locked(); }

  // Releases the lock, waits for a notify, re-takes the lock. The caller
  // stays queued for the whole wait, its slices included, and the lock
  // stays free until it is notified or times out. A wait whose client
  // hangs up lets go of the lock and passes on a notify(n) it was given to
  // the next waiter that was already waiting at that notify, so that none
  // is spent on a client nobody can answer (one from notify_all has woken
  // every such waiter already).
  bool wait(Caller& caller, std::optional<double> timeout) {
    const auto deadline = deadline_for(timeout, NegativeTimeout::counts_as_zero);
    const std::uint32_t levels = lock_.disown(caller, "cannot wait on un-acquired lock");
    Waiter self;
    {
      std::lock_guard guard(waiters_mutex_);
      self.ticket = ++last_ticket_;
      waiters_.push_back(&self);
    }
    lock_.lock().release();
    const bool notified = await_notify(caller, deadline, self);
    try {
      require_connected(caller);
      wait_in_slices(caller, std::nullopt,
                     [&](std::chrono::nanoseconds slice) { return lock_.lock().acquire(slice); });
      lock_.own(caller, levels);
      if (!caller.connected()) {
        // Gone before it was recorded as owner: disconnected() may already
        // have run without releasing it.
        lock_.disconnected(caller.connection());
        require_connected(caller);
      }
    } catch (const ManagerGoneError&) {
      if (notified) wake(1, self.pass_bound, PassOn::to_those_waiting_then);
      throw;
    }
    return notified;
  }

  void notify(Caller& caller, std::size_t n) {
    lock_.require_owner(caller, "cannot notify on un-acquired lock");
    wake(n, any_ticket, PassOn::to_those_waiting_then);
  }
  void notify_all(Caller& caller) {
    lock_.require_owner(caller, "cannot notify on un-acquired lock");
    wake(std::numeric_limits<std::size_t>::max(), any_ticket, PassOn::never);
  }

  void disconnected(std::uint64_t connection) override { lock_.disconnected(connection); }

  static std::span<const Method<ManagedCondition>> methods() {
    static constexpr std::array<Method<ManagedCondition>, 6> table{{
        {"acquire", &run<&ManagedCondition::acquire>},
        {"release", &run<&ManagedCondition::release>},
        {"locked", &run<&ManagedCondition::locked>},
        {"wait", &run<&ManagedCondition::wait>},
        {"notify", &run<&ManagedCondition::notify>},
        {"notify_all", &run<&ManagedCondition::notify_all>},
    }};
    return table;
  }

 private:
  struct Waiter {
    std::condition_variable woken;
    bool notified = false;
    std::uint64_t ticket = 0;      // its place among every wait() ever queued
    std::uint64_t pass_bound = 0;  // the newest ticket its notify may be passed on to
  };

  // Waits, in slices, until `self` is notified or the deadline passes;
  // returns whether it was notified. Throws ManagerGoneError when the
  // caller hangs up first. Either way a waiter not notified leaves the
  // queue.
  bool await_notify(Caller& caller, const weft::detail::Deadline& deadline, Waiter& self) {
    std::unique_lock guard(waiters_mutex_);
    bool notified = false;
    try {
      notified = wait_in_slices(caller, deadline, [&](std::chrono::nanoseconds slice) {
        return self.woken.wait_for(guard, slice, [&] { return self.notified; });
      });
    } catch (const ManagerGoneError&) {
      waiters_.remove(&self);
      throw;
    }
    if (!notified) waiters_.remove(&self);
    return notified;
  }

  static constexpr std::uint64_t any_ticket = std::numeric_limits<std::uint64_t>::max();

  // Whether a waiter that hangs up after its notification may pass it on:
  // to one that was already waiting when the notification was made (a
  // notify's), or to none (notify_all's woke them all).
  enum class PassOn { to_those_waiting_then, never };

  // Notifies the n longest waiters (FIFO), as threading.Condition does,
  // among those whose ticket is at most `eligible`.
  void wake(std::size_t n, std::uint64_t eligible, PassOn pass_on) {
    std::lock_guard guard(waiters_mutex_);
    const std::uint64_t pass_bound = pass_on == PassOn::never ? 0 : std::min(eligible, last_ticket_);
    for (; n > 0 && !waiters_.empty() && waiters_.front()->ticket <= eligible; --n) {
      Waiter* waiter = waiters_.front();
      waiters_.pop_front();
      waiter->notified = true;
      waiter->pass_bound = pass_bound;
      waiter->woken.notify_one();
    }
  }

  ConnectionLock lock_;
  std::mutex waiters_mutex_;
  std::list<Waiter*> waiters_;  // guarded by waiters_mutex_
  std::uint64_t last_ticket_ = 0;  // guarded by waiters_mutex_
};

}  // namespace

std::unique_ptr<Managed> make_condition() { return std::make_unique<ManagedCondition>(); }

}  // namespace weft::mp::manager::detail
