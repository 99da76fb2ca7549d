// weft/detail/event_count.hpp — an event count: lets a thread sleep until a
// lock-free structure changes, without a lock and without lost wake-ups.
//
// A waiter calls prepare_wait(), re-checks its condition with sequentially
// consistent loads, then either cancel_wait() or wait(key). A notifier
// changes the structure with a sequentially consistent store (or follows
// the change with a seq_cst fence), then calls notify_one() or
// notify_all(), which cost one load when nobody waits. Any notify after prepare_wait()
// changes the epoch, so a wait() on the old key returns at once.
//
// While a wake-up is in flight (`pending_`), further notify_one() calls
// make no system call: the woken waiter clears the flag when it returns (as
// does every new waiter), and the structure's user chains the wake-up on
// (see has_waiters()) if more work is left than the woken waiter takes. This keeps a producer from
// issuing a wake-up per item while a consumer is still getting up.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex.hpp"

namespace weft::detail {

class EventCount {
 public:
  using Key = std::uint32_t;

  Key prepare_wait() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    // A notify that raced with the last waiter's leave() may have left the
    // flag set with nobody to clear it; a new waiter must be wakeable.
    pending_.store(false, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel_wait() noexcept { leave(); }
  // Returns false if the deadline passed.
  bool wait(Key key, const Deadline& deadline) noexcept {
    const bool woke = futex_wait(epoch_, key, deadline);
    leave();
    return woke;
  }

  // Whether a waiter is registered.
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_seq_cst) != 0; }

  void notify_one() noexcept {
    if (!has_waiters() || pending_.exchange(true, std::memory_order_seq_cst)) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(epoch_, 1);
  }
  void notify_all() noexcept {
    if (!has_waiters()) return;
    pending_.store(true, std::memory_order_seq_cst);
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(epoch_, INT_MAX);
  }

 private:
  // A waiter that returns, for whatever reason, re-enables wake-ups:
  // clearing too early costs a spare wake-up, never a lost one.
  void leave() noexcept {
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
    pending_.store(false, std::memory_order_seq_cst);
  }

  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  std::atomic<std::uint32_t> waiters_{0};
  std::atomic<bool> pending_{false};
};

}  // namespace weft::detail
