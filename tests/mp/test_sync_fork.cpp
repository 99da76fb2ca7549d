// weft::mp's synchronisation primitives across forked processes: mutual exclusion, semaphore
// bounds, events, conditions and barriers whose parties are processes.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "mp/sync_support.hpp"
#include "weft/mp/sharedctypes.hpp"
#include "weft/mp/synchronize.hpp"

namespace weft::test {
namespace {

constexpr int kProcesses = 4;

TEST(MpSyncFork, LockExcludesOtherProcesses) {
  mp::Lock lock;
  mp::RawValue<long> counter(0);
  const int rounds = 10000;
  auto children = fork_children(kProcesses, [&](int) {
    for (int i = 0; i < rounds; ++i) {
      std::lock_guard held(lock);
      counter.get_obj() += 1;
    }
  });
  ASSERT_TRUE(all_succeed(children));
  EXPECT_EQ(counter.value(), static_cast<long>(kProcesses) * rounds);
  EXPECT_FALSE(lock.locked());
}

TEST(MpSyncFork, HeldLockBlocksAChildUntilReleased) {
  mp::Lock lock;
  mp::Event tried;
  ASSERT_TRUE(lock.acquire());
  auto child = Child::fork([&] {
    require(!lock.acquire(false));
    require(!lock.acquire(kTick));
    require(lock.locked() && !lock.is_owned());
    tried.set();
    require(lock.acquire(kPatience));
    require(!lock.owner_died());
    lock.release();
  });
  ASSERT_TRUE(tried.wait(kPatience));
  lock.release();
  EXPECT_EQ(child.wait(), 0);
  EXPECT_FALSE(lock.locked());
}

TEST(MpSyncFork, AChildCannotReleaseTheParentsLock) {
  mp::Lock lock;
  mp::RLock rlock;
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(rlock.acquire());
  auto child = Child::fork([&] {
    try {
      lock.release();
      require(false);
    } catch (const RuntimeError&) {
    }
    try {
      rlock.release();
      require(false);
    } catch (const RuntimeError&) {
    }
  });
  EXPECT_EQ(child.wait(), 0);
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  rlock.release();
}

TEST(MpSyncFork, RLockRecursionInChildren) {
  mp::RLock lock;
  mp::RawValue<long> counter(0);
  auto children = fork_children(kProcesses, [&](int) {
    for (int i = 0; i < 2000; ++i) {
      std::lock_guard outer(lock);
      std::lock_guard inner(lock);
      counter.get_obj() += 1;
    }
  });
  ASSERT_TRUE(all_succeed(children));
  EXPECT_EQ(counter.value(), kProcesses * 2000L);
}

TEST(MpSyncFork, SemaphoreBoundsHoldersAcrossProcesses) {
  mp::Semaphore semaphore(2);
  mp::RawArray<int> stats(2);  // [inside, most]
  auto children = fork_children(kProcesses, [&](int) {
    std::atomic_ref<int> inside(stats[0]);
    std::atomic_ref<int> most(stats[1]);
    for (int i = 0; i < 2000; ++i) {
      require(semaphore.acquire(kPatience));
      const int now = inside.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      inside.fetch_sub(1);
      semaphore.release();
    }
  });
  ASSERT_TRUE(all_succeed(children));
  EXPECT_LE(stats[1], 2);
  EXPECT_GE(stats[1], 1);
  EXPECT_EQ(semaphore.get_value(), 2u);
}

TEST(MpSyncFork, SemaphoreReleasedByAnotherProcessWakesWaiter) {
  mp::Semaphore semaphore(0);
  mp::BoundedSemaphore bounded(1);
  ASSERT_TRUE(bounded.acquire());
  auto child = Child::fork([&] {
    semaphore.release();
    bounded.release();
    try {
      bounded.release();
      require(false);
    } catch (const ValueError&) {
    }
  });
  EXPECT_TRUE(semaphore.acquire(kPatience));
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(bounded.get_value(), 1u);
}

TEST(MpSyncFork, EventWakesWaitersInOtherProcesses) {
  mp::Event go;
  mp::Semaphore waiting(0);
  auto children = fork_children(3, [&](int) {
    waiting.release();
    require(go.wait(kPatience));
    require(go.is_set());
  });
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(waiting.acquire(kPatience));
  go.set();
  EXPECT_TRUE(all_succeed(children));
}

TEST(MpSyncFork, EventClearedInAChildIsClearedHere) {
  mp::Event event;
  event.set();
  auto child = Child::fork([&] {
    event.clear();
    require(!event.wait(kTick));
  });
  EXPECT_EQ(child.wait(), 0);
  EXPECT_FALSE(event.is_set());
}

// A setter that dies at the system call waking a sleeping waiter leaves the flag raised; the
// next set(), even after a clear(), still wakes that waiter.
TEST(MpSyncFork, SetterKilledAtItsWakeUp) {
  mp::Event event;
  auto waiter = Child::fork([&] { require(event.wait()); });
  ASSERT_TRUE(eventually([&] { return waiter.asleep(); }));
  auto setter = Child::fork([&] {
    die_at_shared_futex_wake();
    event.set();
  });
  const int status = setter.wait();
  if (status == kNoSeccomp) GTEST_SKIP() << "seccomp filters are not allowed here";
  ASSERT_EQ(status, 128 + SIGSYS);
  EXPECT_TRUE(event.is_set());
  event.clear();
  event.set();
  EXPECT_EQ(waiter.wait(), 0) << "the waiter was never woken";
}

TEST(MpSyncFork, ConditionProducerConsumer) {
  constexpr int kCapacity = 8;
  constexpr int kItems = 2000;
  mp::Condition cond;
  mp::RawArray<long> ring(kCapacity);
  mp::RawArray<long> cursors(3);  // [head, tail, sum]
  auto producer = Child::fork([&] {
    for (long item = 1; item <= kItems; ++item) {
      std::unique_lock held(cond);
      require(cond.wait_for([&] { return cursors[1] - cursors[0] < kCapacity; }, kPatience));
      ring[static_cast<std::size_t>(cursors[1] % kCapacity)] = item;
      ++cursors[1];
      cond.notify_all();
    }
  });
  auto consumer = Child::fork([&] {
    for (int n = 0; n < kItems; ++n) {
      std::unique_lock held(cond);
      require(cond.wait_for([&] { return cursors[1] > cursors[0]; }, kPatience));
      cursors[2] += ring[static_cast<std::size_t>(cursors[0] % kCapacity)];
      ++cursors[0];
      cond.notify_all();
    }
  });
  EXPECT_EQ(producer.wait(), 0);
  EXPECT_EQ(consumer.wait(), 0);
  EXPECT_EQ(cursors[2], static_cast<long>(kItems) * (kItems + 1) / 2);
}

TEST(MpSyncFork, ConditionNotifyReachesAnotherProcess) {
  mp::Lock lock;
  mp::Condition cond(lock);
  mp::RawValue<int> state(0);
  auto child = Child::fork([&] {
    std::unique_lock held(cond);
    state.value(1);
    cond.notify();
    require(cond.wait_for([&] { return state.value() == 2; }, kPatience));
  });
  {
    std::unique_lock held(cond);
    ASSERT_TRUE(cond.wait_for([&] { return state.value() == 1; }, kPatience));
    state.value(2);
    cond.notify();
  }
  EXPECT_EQ(child.wait(), 0);
}

TEST(MpSyncFork, BarrierAcrossThreeProcesses) {
  mp::Barrier barrier(3);
  mp::RawArray<int> seen(3 * 5);
  auto children = fork_children(2, [&](int) {
    for (int round = 0; round < 5; ++round) {
      const std::size_t index = barrier.wait(kPatience);
      std::atomic_ref<int>(seen[static_cast<std::size_t>(round) * 3 + index]).fetch_add(1);
    }
  });
  for (int round = 0; round < 5; ++round) {
    const std::size_t index = barrier.wait(kPatience);
    std::atomic_ref<int>(seen[static_cast<std::size_t>(round) * 3 + index]).fetch_add(1);
  }
  ASSERT_TRUE(all_succeed(children));
  for (int count : seen) EXPECT_EQ(count, 1);
}

TEST(MpSyncFork, BarrierActionRunsInTheLastProcess) {
  mp::RawValue<int> runs(0);
  mp::Barrier barrier(3, [&] { std::atomic_ref<int>(runs.get_obj()).fetch_add(1); });
  auto children = fork_children(2, [&](int) { barrier.wait(kPatience); });
  barrier.wait(kPatience);
  ASSERT_TRUE(all_succeed(children));
  EXPECT_EQ(runs.value(), 1);
}

// Each child reports BrokenBarrierError through its exit status.
void expect_broken(mp::Barrier& barrier, bool with_timeout) {
  try {
    with_timeout ? barrier.wait(kTick * 4) : barrier.wait(kPatience);
  } catch (const BrokenBarrierError&) {
    return;
  }
  require(false);
}

TEST(MpSyncFork, BarrierTimeoutBreaksItInEveryProcess) {
  mp::Barrier barrier(3);
  auto children = fork_children(2, [&](int i) { expect_broken(barrier, i == 0); });
  EXPECT_TRUE(all_succeed(children));
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
}

TEST(MpSyncFork, BarrierAbortFromAnotherProcess) {
  mp::Barrier barrier(3);
  auto children = fork_children(2, [&](int) { expect_broken(barrier, false); });
  ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
  barrier.abort();
  EXPECT_TRUE(all_succeed(children));
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  auto again = fork_children(2, [&](int) { barrier.wait(kPatience); });
  barrier.wait(kPatience);
  EXPECT_TRUE(all_succeed(again));
}

}  // namespace
}  // namespace weft::test
