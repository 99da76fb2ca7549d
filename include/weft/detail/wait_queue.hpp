// weft/detail/wait_queue.hpp — a FIFO of threads waiting for a condition that
// an external lock guards; the engine of weft::Condition, the queues and the
// barrier.
//
// Every call must be made with the guarding lock held. Each waiter parks on
// its own futex word, so notify(n) wakes exactly the n longest waiters and a
// waker never touches a waiter that has already left. A waiter spins briefly
// before it sleeps, and a waker only makes the wake-up system call for a
// waiter that is really asleep.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "weft/detail/futex.hpp"

namespace weft::detail {

class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  // A futex word to wake once the guarding lock has been released.
  using PendingWake = std::atomic<std::uint32_t>*;

  // Enqueues the caller, calls unlock(), waits for a notification or the
  // deadline, then calls relock(). Returns true if notified. A notification
  // that races with the deadline counts as received, so none is ever lost.
  // If unlock() throws, the caller leaves the queue and the exception
  // propagates.
  template <class Unlock, class Relock>
  bool wait(const Deadline& deadline, Unlock&& unlock, Relock&& relock) {
    NoGuard none;
    return wait(deadline, unlock, relock, none);
  }

  // As above, but joins and leaves the queue holding `guard` too (a
  // BasicLockable), for a guarding lock the caller may not really hold:
  // every notify must then hold `guard` as well.
  template <class Unlock, class Relock, class Guard>
  bool wait(const Deadline& deadline, Unlock&& unlock, Relock&& relock, Guard& guard) {
    Waiter self;
    const auto leave_unless_notified = [&] {
      guard.lock();
      const bool notified = self.state.load(std::memory_order_acquire) == kNotified;
      if (!notified) unlink(self);
      guard.unlock();
      return notified;
    };
    guard.lock();
    link(self);
    guard.unlock();
    try {
      unlock();
    } catch (...) {
      leave_unless_notified();
      throw;
    }
    const bool notified = park(self, deadline);
    relock();
    return notified || leave_unless_notified();
  }

  bool has_waiters() const noexcept { return head_ != nullptr; }

  // Notifies the longest waiter. The caller passes the result to wake()
  // after releasing the guarding lock.
  [[nodiscard]] PendingWake notify_one() noexcept {
    Waiter* waiter = head_;
    if (waiter == nullptr) return nullptr;
    unlink(*waiter);
    return signal(*waiter);
  }

  // Notifies up to n waiters, or all of them, waking sleepers at once.
  void notify(std::size_t n) noexcept {
    while (n-- > 0 && head_ != nullptr) wake(notify_one());
  }
  void notify_all() noexcept {
    while (head_ != nullptr) wake(notify_one());
  }

  static void wake(PendingWake word) noexcept {
    if (word != nullptr) futex_wake(*word, 1);
  }

 private:
  static constexpr std::uint32_t kWaiting = 0;
  static constexpr std::uint32_t kNotified = 1;
  static constexpr std::uint32_t kSleeping = 2;
  static constexpr int kSpins = 200;

  struct NoGuard {
    void lock() noexcept {}
    void unlock() noexcept {}
  };

  struct Waiter {
    std::atomic<std::uint32_t> state{kWaiting};
    Waiter* prev = nullptr;
    Waiter* next = nullptr;
  };

  static PendingWake signal(Waiter& waiter) noexcept {
    std::atomic<std::uint32_t>* word = &waiter.state;
    return word->exchange(kNotified, std::memory_order_acq_rel) == kSleeping ? word : nullptr;
  }

  static bool park(Waiter& self, const Deadline& deadline) noexcept {
    for (int i = 0; i < kSpins; ++i) {
      if (self.state.load(std::memory_order_acquire) == kNotified) return true;
      cpu_relax();
    }
    std::uint32_t expected = kWaiting;
    if (!self.state.compare_exchange_strong(expected, kSleeping, std::memory_order_acq_rel))
      return true;
    for (;;) {
      const bool woke = futex_wait(self.state, kSleeping, deadline);
      if (self.state.load(std::memory_order_acquire) == kNotified) return true;
      if (!woke) return false;
    }
  }

  void link(Waiter& w) noexcept {
    w.prev = tail_;
    if (tail_ != nullptr) tail_->next = &w; else head_ = &w;
    tail_ = &w;
  }

  void unlink(Waiter& w) noexcept {
    if (w.prev != nullptr) w.prev->next = w.next; else head_ = w.next;
    if (w.next != nullptr) w.next->prev = w.prev; else tail_ = w.prev;
    w.prev = w.next = nullptr;
  }

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
};

}  // namespace weft::detail
