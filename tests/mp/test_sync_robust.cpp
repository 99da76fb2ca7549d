// A process SIGKILLed while holding a weft::mp lock: the next acquirer gets the lock promptly and
// is told the owner died, and the lock works normally afterwards. Semaphores have no owner and
// are not robust. A Barrier party killed while waiting stays counted until reset().
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "mp/sync_support.hpp"
#include "weft/mp/sharedctypes.hpp"
#include "weft/mp/synchronize.hpp"

namespace weft::test {
namespace {

using mp::Acquired;

// Forks a child that runs take(), sets `holding`, and then waits to be killed; kills it.
template <class Take>
void kill_holder(Take take) {
  mp::Event holding;
  auto child = Child::fork([&] {
    take();
    holding.set();
    for (;;) ::pause();
  });
  ASSERT_TRUE(holding.wait(kPatience));
  EXPECT_EQ(child.kill(), 128 + SIGKILL);
}

template <class L>
void expect_recovers(L& lock) {
  Stopwatch watch;
  EXPECT_EQ(lock.acquire_status(kPatience), Acquired::owner_died);
  EXPECT_LT(watch.elapsed(), kSlack);
  EXPECT_TRUE(lock.owner_died());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.owner_died());
  EXPECT_EQ(lock.acquire_status(false), Acquired::yes);
  EXPECT_FALSE(lock.owner_died());
  lock.release();
}

TEST(MpSyncRobust, LockOfAKilledProcess) {
  mp::Lock lock;
  kill_holder([&] { require(lock.acquire()); });
  EXPECT_TRUE(lock.locked());
  expect_recovers(lock);
}

TEST(MpSyncRobust, GuardsSeeTheDeathAndStillRelease) {
  mp::Lock lock;
  kill_holder([&] { require(lock.acquire()); });
  {
    std::lock_guard held(lock);
    EXPECT_TRUE(lock.owner_died());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(MpSyncRobust, RLockHeldTwiceByAKilledProcess) {
  mp::RLock lock;
  kill_holder([&] { require(lock.acquire() && lock.acquire()); });
  ASSERT_TRUE(lock.acquire(kPatience));
  EXPECT_TRUE(lock.owner_died());
  lock.release();  // one level: the dead owner's levels are not inherited
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.acquire_status(false), Acquired::yes);
  lock.release();
}

TEST(MpSyncRobust, WaitersBlockedOnTheLockAreFreed) {
  mp::Lock lock;
  mp::Event holding;
  auto holder = Child::fork([&] {
    require(lock.acquire());
    holding.set();
    for (;;) ::pause();
  });
  ASSERT_TRUE(holding.wait(kPatience));
  auto waiter = Child::fork([&] {
    require(lock.acquire_status(kPatience) == Acquired::owner_died);
    lock.release();
  });
  EXPECT_EQ(holder.kill(), 128 + SIGKILL);
  EXPECT_EQ(waiter.wait(), 0);
  EXPECT_EQ(lock.acquire_status(false), Acquired::yes);
  lock.release();
}

TEST(MpSyncRobust, ConditionLockOfAKilledProcess) {
  mp::Condition cond;
  kill_holder([&] { require(cond.acquire()); });
  EXPECT_EQ(cond.acquire_status(kPatience), Acquired::owner_died);
  EXPECT_TRUE(cond.owner_died());
  EXPECT_FALSE(cond.wait(1ms));
  cond.release();
  EXPECT_FALSE(cond.owner_died());
  std::lock_guard held(cond);
  EXPECT_FALSE(cond.owner_died());
}

TEST(MpSyncRobust, ConditionWaitReacquiresFromAKilledNotifier) {
  mp::Lock lock;
  mp::Condition cond(lock);
  mp::RawValue<int> state(0);
  mp::Event holding;
  std::unique_lock held(cond);
  auto child = Child::fork([&] {
    require(cond.acquire());
    state.value(1);
    cond.notify();
    holding.set();
    for (;;) ::pause();
  });
  std::thread killer([&] {
    EXPECT_TRUE(holding.wait(kPatience));
    ::kill(child.pid(), SIGKILL);
  });
  // The wait returns by re-taking the lock, which the child dies holding.
  EXPECT_TRUE(cond.wait_for([&] { return state.value() == 1; }, kPatience));
  killer.join();
  EXPECT_EQ(child.wait(), 128 + SIGKILL);
  EXPECT_TRUE(lock.is_owned());
  EXPECT_TRUE(cond.owner_died());
  EXPECT_TRUE(lock.owner_died());
  held.unlock();
  EXPECT_FALSE(lock.locked());
}

TEST(MpSyncRobust, ConditionWaiterKilledWhileWaitingTakesNoLaterNotification) {
  mp::Condition cond;
  mp::Event holding;
  auto child = Child::fork([&] {
    require(cond.acquire());
    holding.set();
    cond.wait();
  });
  ASSERT_TRUE(holding.wait(kPatience));
  { std::lock_guard waiting(cond); }  // the child has released the lock: it waits
  EXPECT_EQ(child.kill(), 128 + SIGKILL);
  {
    std::lock_guard held(cond);
    cond.notify();  // only the dead waiter to notify
  }
  int waiting = 0;
  std::atomic<int> notified{0};
  std::atomic<int> timed_out{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&] {
      std::unique_lock held(cond);
      ++waiting;
      (cond.wait(kSlack) ? notified : timed_out).fetch_add(1);
    });
  }
  ASSERT_TRUE(eventually([&] {
    std::lock_guard held(cond);
    return waiting == 2;
  }));
  {
    std::lock_guard held(cond);
    cond.notify(1);
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(notified.load(), 1);
  EXPECT_EQ(timed_out.load(), 1);
}

// A waiter notified while it cannot run (here: stopped) keeps its notification, however many
// notify calls, each for another waiter, come before it runs again.
TEST(MpSyncRobust, ConditionWaiterThatRunsLateKeepsItsNotification) {
  mp::Condition cond;
  mp::Event holding;
  auto child = Child::fork([&] {
    require(cond.acquire());
    holding.set();
    require(cond.wait(kPatience));
    cond.release();
  });
  ASSERT_TRUE(holding.wait(kPatience));
  { std::lock_guard waiting(cond); }  // the child has released the lock: it waits
  ASSERT_EQ(::kill(child.pid(), SIGSTOP), 0);
  {
    std::lock_guard held(cond);
    cond.notify(1);  // the child is the only waiter
  }
  for (std::uint32_t round = 0; round < 2 * mp::detail::kConditionGenerations; ++round) {
    std::atomic<bool> waiting{false};
    std::thread other([&] {
      std::unique_lock held(cond);
      waiting = true;
      EXPECT_TRUE(cond.wait(kPatience));
    });
    ASSERT_TRUE(eventually([&] {
      std::lock_guard held(cond);
      if (!waiting) return false;
      cond.notify(1);
      return true;
    }));
    other.join();
  }
  ASSERT_EQ(::kill(child.pid(), SIGCONT), 0);
  EXPECT_EQ(child.wait(), 0) << "the child's wait timed out: its notification was lost";
}

// Two waiters that cannot run for as long, each notified by its own notify call, keep each their
// own: of the two that began waiting after the first notify, one is woken, the other is not.
TEST(MpSyncRobust, ConditionWaitersThatRunLateKeepTheNotificationOfEach) {
  mp::Condition cond;
  mp::Event waiting;
  // A child that waits on cond, stopped once it waits; it exits 0 if notified within `timeout`.
  const auto stopped_waiter = [&](Clock::duration timeout) {
    waiting.clear();
    auto child = Child::fork([&] {
      require(cond.acquire());
      waiting.set();
      const bool notified = cond.wait(timeout);
      cond.release();
      require(notified);
    });
    EXPECT_TRUE(waiting.wait(kPatience));
    { std::lock_guard registered(cond); }  // the child has released the lock: it waits
    EXPECT_EQ(::kill(child.pid(), SIGSTOP), 0);
    return child;
  };
  auto first = stopped_waiter(kPatience);
  {
    std::lock_guard held(cond);
    cond.notify(1);  // for `first`, the only waiter
  }
  auto second = stopped_waiter(kSlack);
  auto third = stopped_waiter(kSlack);
  {
    std::lock_guard held(cond);
    cond.notify(1);  // for one of `second` and `third`
  }
  for (std::uint32_t round = 0; round < mp::detail::kConditionGenerations; ++round) {
    std::atomic<bool> other_waits{false};
    std::thread other([&] {
      std::unique_lock held(cond);
      other_waits = true;
      EXPECT_TRUE(cond.wait(kPatience));
    });
    ASSERT_TRUE(eventually([&] {
      std::lock_guard held(cond);
      if (!other_waits) return false;
      cond.notify(1);
      return true;
    }));
    other.join();
  }
  ASSERT_EQ(::kill(second.pid(), SIGCONT), 0);
  ASSERT_EQ(::kill(third.pid(), SIGCONT), 0);
  const int second_status = second.wait();
  const int third_status = third.wait();
  EXPECT_EQ((second_status == 0) + (third_status == 0), 1)
      << "a waiter took a notification of a notify call made before it began waiting";
  ASSERT_EQ(::kill(first.pid(), SIGCONT), 0);
  EXPECT_EQ(first.wait(), 0) << "the first child's wait timed out: its notification was lost";
}

TEST(MpSyncRobust, ValueLockOfAKilledProcess) {
  mp::Value<int> value(0);
  kill_holder([&] {
    require(value.acquire());
    value.get_obj() = 42;
  });
  EXPECT_EQ(value.value(), 42);  // takes (and releases) the lock, recovering it
  EXPECT_FALSE(value.get_lock().locked());
}

TEST(MpSyncRobust, SemaphoreUnitsOfAKilledProcessAreLost) {
  mp::Semaphore semaphore(1);
  kill_holder([&] { require(semaphore.acquire()); });
  EXPECT_EQ(semaphore.get_value(), 0u);
  EXPECT_FALSE(semaphore.acquire(kTick));
}

TEST(MpSyncRobust, BarrierWithAPartyKilledWhileWaiting) {
  mp::Barrier barrier(2);
  auto party = Child::fork([&] { barrier.wait(); });
  ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 1; }));
  EXPECT_EQ(party.kill(), 128 + SIGKILL);
  // In a child, so that a wait that never returns fails the test instead of hanging it.
  auto survivor = Child::fork([&] {
    require(barrier.wait(kPatience) == 1);  // the round completes with the dead party counted
    const Stopwatch watch;
    try {
      barrier.wait(kTick);  // the dead party never leaves its round
      require(false);
    } catch (const BrokenBarrierError&) {
    }
    require(expired_after(watch.elapsed(), kTick));
    require(barrier.broken());
    barrier.reset();
    require(!barrier.broken());
    require(barrier.n_waiting() == 0);
    std::size_t other_index = 2;
    std::thread other([&] { other_index = barrier.wait(kPatience); });
    const std::size_t index = barrier.wait(kPatience);
    other.join();
    require(index + other_index == 1);
  });
  EXPECT_EQ(survivor.wait(), 0);
}

}  // namespace
}  // namespace weft::test
