// weft::Condition: FIFO notify(n), notify_all, timed waits, wait_for, RuntimeErrors, RLock levels.
#include <gtest/gtest.h>
#include <weft/detail/deadline.hpp>
#include <weft/detail/wait_queue.hpp>
#include <weft/threading.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(Condition, WaitAndNotifyWithoutTheLockThrowRuntimeError) {
  weft::Condition cond;
  EXPECT_THROW(cond.wait(), weft::RuntimeError);
  EXPECT_THROW(cond.wait(kTick), weft::RuntimeError);
  EXPECT_THROW(cond.wait_for([] { return false; }, kTick), weft::RuntimeError);
  EXPECT_THROW(cond.notify(), weft::RuntimeError);
  EXPECT_THROW(cond.notify_all(), weft::RuntimeError);

  weft::Lock lock;
  weft::Condition on_lock(lock);
  EXPECT_THROW(on_lock.wait(kTick), weft::RuntimeError);
  EXPECT_THROW(on_lock.notify(), weft::RuntimeError);
}

TEST(Condition, NotifyByANonOwnerOfTheRLockThrowsRuntimeError) {
  weft::RLock lock;
  weft::Condition cond(lock);
  lock.acquire();
  const bool threw = on_other_thread([&] {
    try {
      cond.notify();
      return false;
    } catch (const weft::RuntimeError&) {
      return true;
    }
  });
  EXPECT_TRUE(threw);
  lock.release();
}

TEST(Condition, NotifyWakesAWaiter) {
  weft::Condition cond;
  bool ready = false;
  weft::Thread waiter([&] {
    std::unique_lock held(cond);
    while (!ready) cond.wait();
  });
  waiter.start();
  {
    std::lock_guard held(cond);
    ready = true;
    cond.notify();
  }
  EXPECT_TRUE(waiter.join(kPatience));
}

// Waiters enter cond.wait() one at a time, in index order; each records its index once woken.
class FifoWaiters {
 public:
  FifoWaiters(weft::RLock& lock, weft::Condition& cond, int n)
      : lock_(lock), cond_(cond), woken_cond_(lock) {
    for (int i = 0; i < n; ++i) {
      auto entered = std::make_unique<weft::Event>();
      threads_.push_back(std::make_unique<weft::Thread>([this, i, e = entered.get()] {
        std::lock_guard held(lock_);
        e->set();
        cond_.wait();
        woken_.push_back(i);
        woken_cond_.notify_all();
      }));
      threads_.back()->start();
      EXPECT_TRUE(entered->wait(kPatience));
      // Taking the lock proves the waiter has released it inside wait(), so it is queued.
      std::lock_guard queued(lock_);
      entered_.push_back(std::move(entered));
    }
  }
  // Releases any waiter a failed test left behind, then joins them all.
  ~FifoWaiters() {
    {
      std::lock_guard held(lock_);
      cond_.notify_all();
    }
    for (auto& t : threads_) t->join();
  }

  // Waits until `count` waiters have woken; returns who woke, in wake-up order.
  std::vector<int> woken(std::size_t count) {
    std::lock_guard held(lock_);
    EXPECT_TRUE(woken_cond_.wait_for([&] { return woken_.size() >= count; }, kPatience));
    return woken_;
  }

 private:
  weft::RLock& lock_;
  weft::Condition& cond_;
  weft::Condition woken_cond_;
  std::vector<int> woken_;
  std::vector<std::unique_ptr<weft::Event>> entered_;
  std::vector<std::unique_ptr<weft::Thread>> threads_;
};

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Condition, NotifyNWakesTheLongestWaitersFirst) {
  weft::RLock lock;
  weft::Condition cond(lock);
  FifoWaiters waiters(lock, cond, 5);
  {
    std::lock_guard held(lock);
    cond.notify(2);
  }
  auto woken = waiters.woken(2);
  EXPECT_EQ(sorted(woken), (std::vector<int>{0, 1}));
  {
    std::lock_guard held(lock);
    cond.notify();
  }
  woken = waiters.woken(3);
  ASSERT_EQ(woken.size(), 3u);
  EXPECT_EQ(woken[2], 2);
  {
    std::lock_guard held(lock);
    cond.notify(10);
  }
  woken = waiters.woken(5);
  ASSERT_EQ(woken.size(), 5u);
  EXPECT_EQ(sorted({woken[3], woken[4]}), (std::vector<int>{3, 4}));
}

TEST(Condition, NotifyAllWakesEveryWaiter) {
  weft::RLock lock;
  weft::Condition cond(lock);
  FifoWaiters waiters(lock, cond, 4);
  {
    std::lock_guard held(lock);
    cond.notify_all();
  }
  EXPECT_EQ(sorted(waiters.woken(4)), (std::vector<int>{0, 1, 2, 3}));
}

TEST(Condition, NotifyWithNoWaitersIsANoOp) {
  weft::Condition cond;
  std::lock_guard held(cond);
  cond.notify();
  cond.notify(5);
  cond.notify_all();
  EXPECT_FALSE(cond.wait(0ms));
}

TEST(Condition, TimedWaitReturnsFalseAndKeepsTheLock) {
  weft::RLock lock;
  weft::Condition cond(lock);
  std::lock_guard held(lock);
  Stopwatch sw;
  EXPECT_FALSE(cond.wait(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(lock.is_owned());
}

TEST(Condition, NegativeTimeoutCountsAsZeroAndKeepsTheLock) {
  weft::RLock lock;
  weft::Condition cond(lock);
  std::lock_guard held(lock);
  std::lock_guard twice(lock);
  EXPECT_FALSE(cond.wait(-1ms));
  EXPECT_TRUE(lock.is_owned());
  int calls = 0;
  EXPECT_EQ(cond.wait_for([&] { return ++calls, 0; }, -1ms), 0);
  EXPECT_EQ(calls, 2) << "checked before and after one wait, as Python does";
  lock.release();
  EXPECT_TRUE(lock.is_owned()) << "both recursion levels are restored";
  lock.acquire();
}

TEST(Condition, WaitForReturnsThePredicatesLastValue) {
  weft::Condition cond;
  int value = 0;
  std::lock_guard held(cond);
  int calls = 0;
  Stopwatch sw;
  EXPECT_EQ(cond.wait_for([&] { ++calls; return value; }, kTick), 0);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_GE(calls, 2);
  value = 9;
  sw = Stopwatch();
  EXPECT_EQ(cond.wait_for([&] { return value; }, kPatience), 9);
  EXPECT_EQ(cond.wait_for([&] { return value; }), 9);
  EXPECT_EQ(cond.wait_for([&] { return value; }, 0ms), 9);
  EXPECT_LT(sw.elapsed(), kPatience / 2);
}

TEST(Condition, WaitForSeesAValueSetByAnotherThread) {
  weft::Condition cond;
  int value = 0;
  weft::Thread setter([&] {
    std::lock_guard held(cond);
    value = 7;
    cond.notify_all();
  });
  std::unique_lock held(cond);
  setter.start();
  EXPECT_EQ(cond.wait_for([&] { return value; }, kPatience), 7);
  held.unlock();
  setter.join();
}

TEST(Condition, WaitReleasesEveryRLockLevelAndRestoresThem) {
  weft::RLock lock;
  weft::Condition cond(lock);
  bool flag = false;
  for (int i = 0; i < 3; ++i) lock.acquire();
  weft::Thread notifier([&] {
    std::lock_guard held(lock);
    flag = true;
    cond.notify();
  });
  notifier.start();
  EXPECT_TRUE(cond.wait_for([&] { return flag; }, kPatience));
  EXPECT_TRUE(lock.is_owned());
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(false); }));
  for (int i = 0; i < 3; ++i) lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  notifier.join();
}

TEST(Condition, WorksOnAPlainLock) {
  weft::Lock lock;
  weft::Condition cond(lock);
  int value = 0;
  weft::Thread setter([&] {
    std::lock_guard held(cond);
    value = 5;
    cond.notify();
  });
  std::unique_lock held(lock);
  setter.start();
  EXPECT_EQ(cond.wait_for([&] { return value; }, kPatience), 5);
  EXPECT_TRUE(lock.locked());
  held.unlock();
  setter.join();
}

TEST(Condition, IsItselfALock) {
  weft::Condition cond;
  EXPECT_TRUE(cond.acquire());
  EXPECT_TRUE(cond.acquire(false));
  cond.release();
  cond.release();
  EXPECT_TRUE(cond.try_lock());
  cond.unlock();
  EXPECT_TRUE(cond.acquire(kTick));
  EXPECT_FALSE(on_other_thread([&] { return cond.try_lock(); }));
  cond.release();
}

// A plain Lock may be released by another thread between wait()'s check that it is held and
// wait()'s own release, which then throws: the waiter must not stay queued, or a later notify
// would go to a dead frame instead of a real waiter.
TEST(Condition, AWaiterWhoseReleaseThrowsLeavesTheQueue) {
  weft::detail::WaitQueue queue;
  EXPECT_THROW(queue.wait(std::nullopt, [] { throw weft::RuntimeError("release unlocked lock"); }, [] {}),
               weft::RuntimeError);
  EXPECT_FALSE(queue.has_waiters());
}

// A plain Lock has no owner, so wait() on a thread that does not hold it passes the check
// whenever another thread does (Python's test too), and joins the queue beside that thread's
// notifies and the other such waiters. None of them may be lost from the queue: each is
// notified by the next notify_all, long before its timeout (under ThreadSanitizer: no race).
TEST(Condition, WaitersThatDoNotHoldAPlainLockAreNeverLostFromTheQueue) {
  weft::Lock lock;
  weft::Condition cond(lock);
  constexpr int kWaiters = 4;
  const int rounds = scaled(200000);
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::atomic<int> timed_out{0};
  const auto release_if_locked = [&] {
    try {
      lock.release();
    } catch (const weft::RuntimeError&) {  // a waiter's wait() released it first
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      for (int round = 0; round < rounds && !stop.load(); ++round) {
        bool notified = false;
        try {
          notified = cond.wait(kPatience);
        } catch (const weft::RuntimeError&) {  // nobody held the lock, or its release failed
          continue;
        }
        release_if_locked();  // wait() took the lock again
        if (!notified) {
          timed_out.fetch_add(1);
          stop.store(true);
        }
      }
      finished.fetch_add(1);
    });
  }
  threads.emplace_back([&] {
    while (finished.load() < kWaiters) {
      if (!lock.acquire(false)) continue;
      try {
        cond.notify_all();
      } catch (const weft::RuntimeError&) {  // a waiter's wait() released it
      }
      release_if_locked();
    }
  });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(timed_out.load(), 0);
}

}  // namespace
