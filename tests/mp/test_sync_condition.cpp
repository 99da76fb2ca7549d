// weft::mp::Condition within one process: lock ownership rules, waits with and without timeouts,
// notify counts, RLock levels restored by wait(), and producer/consumer threads.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/mp/condition.hpp"

namespace weft::test {
namespace {

TEST(MpCondition, WaitAndNotifyNeedTheLock) {
  mp::Condition cond;
  EXPECT_THROW(cond.wait(), RuntimeError);
  EXPECT_THROW(cond.wait(kTick), RuntimeError);
  EXPECT_THROW(cond.notify(), RuntimeError);
  EXPECT_THROW(cond.notify_all(), RuntimeError);
  EXPECT_THROW(cond.release(), RuntimeError);
  std::lock_guard held(cond);
  EXPECT_FALSE(cond.wait(-1s)) << "a negative timeout counts as 0, as in Python";
  EXPECT_NO_THROW(cond.notify()) << "the lock is held again";
  on_other_thread([&] {
    EXPECT_THROW(cond.notify(), RuntimeError);
    EXPECT_FALSE(cond.acquire(false));
    return 0;
  });
}

TEST(MpCondition, TimedWaitExpiresWithTheLockBack) {
  mp::Condition cond;
  std::unique_lock held(cond);
  Stopwatch watch;
  EXPECT_FALSE(cond.wait(kTick));
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  EXPECT_FALSE(on_other_thread([&] { return cond.acquire(false); }));
  EXPECT_FALSE(cond.owner_died());
}

TEST(MpCondition, NotifyWithoutWaitersIsHarmless) {
  mp::Condition cond;
  std::unique_lock held(cond);
  cond.notify();
  cond.notify(5);
  cond.notify_all();
  EXPECT_FALSE(cond.wait(kTick));
}

TEST(MpCondition, NotifyWakesAWaiter) {
  mp::Condition cond;
  bool ready = false;
  std::thread waiter([&] {
    std::unique_lock held(cond);
    EXPECT_TRUE(cond.wait_for([&] { return ready; }, kPatience));
  });
  {
    std::unique_lock held(cond);
    ready = true;
    cond.notify();
  }
  waiter.join();
}

TEST(MpCondition, NotifyNWakesExactlyN) {
  mp::Condition cond;
  constexpr int kWaiters = 4;
  int waiting = 0;
  std::atomic<int> notified{0};
  std::atomic<int> timed_out{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      std::unique_lock held(cond);
      ++waiting;
      (cond.wait(3s) ? notified : timed_out).fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard held(cond);
    return waiting == kWaiters;
  }));
  {
    std::lock_guard held(cond);
    cond.notify(2);
  }
  ASSERT_TRUE(eventually([&] { return notified.load() == 2; }));
  {
    std::lock_guard held(cond);
    cond.notify(1);
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(notified.load(), 3);
  EXPECT_EQ(timed_out.load(), 1);
}

TEST(MpCondition, NotifyAllWakesEveryWaiter) {
  mp::Condition cond;
  constexpr int kWaiters = 3;
  int waiting = 0;
  std::atomic<int> notified{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      std::unique_lock held(cond);
      ++waiting;
      if (cond.wait(kPatience)) notified.fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard held(cond);
    return waiting == kWaiters;
  }));
  {
    std::lock_guard held(cond);
    cond.notify_all();
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(notified.load(), kWaiters);
}

TEST(MpCondition, LaterWaiterDoesNotTakeAnEarlierNotification) {
  mp::Condition cond;
  std::unique_lock held(cond);
  cond.notify();
  EXPECT_FALSE(cond.wait(kTick));
}

TEST(MpCondition, WaitRestoresEveryRLockLevel) {
  mp::RLock lock;
  mp::Condition cond(lock);
  bool ready = false;
  lock.acquire();
  lock.acquire();
  std::thread notifier([&] {
    std::lock_guard held(cond);
    ready = true;
    cond.notify();
  });
  EXPECT_TRUE(cond.wait_for([&] { return ready; }, kPatience));
  notifier.join();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(MpCondition, WithAPlainLock) {
  mp::Lock lock;
  mp::Condition cond(lock);
  int value = 0;
  std::thread setter([&] {
    std::lock_guard held(lock);
    value = 7;
    cond.notify_all();
  });
  {
    std::unique_lock held(cond);
    EXPECT_EQ(cond.wait_for([&] { return value; }, kPatience), 7);
    EXPECT_TRUE(lock.is_owned());
  }
  setter.join();
  EXPECT_FALSE(lock.locked());
}

TEST(MpCondition, WaitForReturnsThePredicateOnTimeout) {
  mp::Condition cond;
  std::unique_lock held(cond);
  EXPECT_EQ(cond.wait_for([] { return 0; }, kTick), 0);
  EXPECT_EQ(cond.wait_for([] { return 3; }), 3);
}

TEST(MpCondition, ProducerConsumerThreads) {
  mp::Condition cond;
  std::vector<int> items;
  bool done = false;
  const int count = scaled(5000);
  long long sum = 0;
  std::thread consumer([&] {
    std::unique_lock held(cond);
    for (;;) {
      cond.wait_for([&] { return !items.empty() || done; });
      for (int item : items) sum += item;
      items.clear();
      if (done) return;
    }
  });
  for (int i = 1; i <= count; ++i) {
    std::lock_guard held(cond);
    items.push_back(i);
    if (i == count) done = true;
    cond.notify();
  }
  consumer.join();
  EXPECT_EQ(sum, static_cast<long long>(count) * (count + 1) / 2);
}

}  // namespace
}  // namespace weft::test
