// weft::mp::Lock and RLock within one process: every call and error, threads, RAII guards, and a
// thread that exits holding the lock.
#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/mp/detail/lock_state.hpp"
#include "weft/mp/detail/thread_id.hpp"
#include "weft/mp/lock.hpp"

namespace weft::test {
namespace {

using mp::Acquired;

TEST(MpLock, AcquireReleaseLocked) {
  mp::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.is_owned());
  EXPECT_FALSE(lock.owner_died());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
}

TEST(MpLock, CopiesAreTheSameLock) {
  mp::Lock lock;
  mp::Lock copy = lock;
  ASSERT_TRUE(lock.acquire());
  EXPECT_TRUE(copy.locked());
  EXPECT_FALSE(on_other_thread([copy]() mutable { return copy.acquire(false); }));
  copy.release();
  EXPECT_FALSE(lock.locked());
}

TEST(MpLock, NonBlockingAndTimedAcquireFailWhileHeldElsewhere) {
  mp::Lock lock;
  ASSERT_TRUE(lock.acquire());
  on_other_thread([&] {
    EXPECT_FALSE(lock.acquire(false));
    EXPECT_EQ(lock.acquire_status(false), Acquired::no);
    Stopwatch watch;
    EXPECT_FALSE(lock.acquire(kTick));
    EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
    EXPECT_FALSE(lock.try_lock_for(kTick));
    EXPECT_FALSE(lock.try_lock_until(std::chrono::system_clock::now() + kTick));
    EXPECT_FALSE(lock.try_lock_for(-1s));
    return 0;
  });
  lock.release();
}

TEST(MpLock, ReacquiringByTheOwnerTimesOut) {
  mp::Lock lock;
  ASSERT_TRUE(lock.acquire());
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(kTick));
  lock.release();
}

TEST(MpLock, WaiterGetsTheLockWhenReleased) {
  mp::Lock lock;
  ASSERT_TRUE(lock.acquire());
  std::thread waiter([&] {
    EXPECT_EQ(lock.acquire_status(kPatience), Acquired::yes);
    lock.release();
  });
  lock.release();
  waiter.join();
  EXPECT_FALSE(lock.locked());
}

TEST(MpLock, NegativeTimeoutCountsAsZero) {
  mp::Lock lock;
  ASSERT_TRUE(lock.acquire(-1ms));
  on_other_thread([&] { EXPECT_FALSE(lock.acquire(-1ms)); });
  lock.release();
  mp::RLock rlock;
  ASSERT_TRUE(rlock.acquire(-1s));
  ASSERT_TRUE(rlock.acquire(-1s));
  on_other_thread([&] { EXPECT_FALSE(rlock.acquire(-1s)); });
  rlock.release();
  rlock.release();
  EXPECT_FALSE(rlock.locked());
}

TEST(MpLock, Errors) {
  mp::Lock lock;
  EXPECT_THROW(lock.release(), ValueError);
  ASSERT_TRUE(lock.acquire());
  on_other_thread([&] {
    EXPECT_THROW(lock.release(), RuntimeError);
    return 0;
  });
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST(MpLock, StandardGuards) {
  mp::Lock lock;
  {
    std::lock_guard guard(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::unique_lock guard(lock, std::try_to_lock);
    EXPECT_TRUE(guard.owns_lock());
  }
  {
    std::unique_lock guard(lock, 10ms);
    EXPECT_TRUE(guard.owns_lock());
  }
  mp::Lock other;
  {
    std::scoped_lock both(lock, other);
    EXPECT_TRUE(lock.locked() && other.locked());
  }
  EXPECT_FALSE(lock.locked() || other.locked());
}

TEST(MpLock, MutualExclusionAcrossThreads) {
  mp::Lock lock;
  long counter = 0;
  constexpr int kThreads = 4;
  const int rounds = scaled(20000);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        std::lock_guard guard(lock);
        ++counter;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter, static_cast<long>(kThreads) * rounds);
}

TEST(MpLock, ThreadExitingWithTheLockHeldIsReported) {
  mp::Lock lock;
  std::thread([&] { ASSERT_TRUE(lock.acquire()); }).join();
  EXPECT_TRUE(lock.locked());
  // The kernel released it when the thread ended: no need to wait.
  EXPECT_EQ(lock.acquire_status(false), Acquired::owner_died);
  EXPECT_TRUE(lock.owner_died());
  lock.release();
  EXPECT_FALSE(lock.owner_died());
  EXPECT_EQ(lock.acquire_status(), Acquired::yes);
  EXPECT_FALSE(lock.owner_died());
  lock.release();
}

TEST(MpRLock, Recursion) {
  mp::RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(kTick));
  EXPECT_TRUE(lock.is_owned());
  lock.release();
  lock.release();
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(false); }));
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(on_other_thread([&] {
    const bool got = lock.acquire(false);
    if (got) lock.release();
    return got;
  }));
}

TEST(MpRLock, Errors) {
  mp::RLock lock;
  EXPECT_THROW(lock.release(), RuntimeError);
  ASSERT_TRUE(lock.acquire());
  on_other_thread([&] {
    EXPECT_THROW(lock.release(), RuntimeError);
    EXPECT_FALSE(lock.is_owned());
    return 0;
  });
  lock.release();
}

TEST(MpRLock, GuardsNest) {
  mp::RLock lock;
  {
    std::lock_guard outer(lock);
    std::unique_lock inner(lock);
    EXPECT_TRUE(inner.owns_lock());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(MpRLock, ThreadExitingWithLevelsHeldIsReported) {
  mp::RLock lock;
  std::thread([&] {
    ASSERT_TRUE(lock.acquire());
    ASSERT_TRUE(lock.acquire());
  }).join();
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.owner_died());
  EXPECT_TRUE(lock.acquire());
  lock.release();
  EXPECT_TRUE(lock.owner_died());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.acquire_status(), Acquired::yes);
  lock.release();
}

}  // namespace
TEST(MpRLock, ADeadOwnersThreadIdGivenToANewThreadOwnsNothing) {
  // The owner record names this thread while the mutex is free: what a
  // holder that died leaves once the kernel gives its id to a new thread.
  mp::detail::LockState state;
  state.owner_tid.store(mp::detail::this_thread_id());
  EXPECT_FALSE(mp::detail::lock_is_owned(state));
  ASSERT_EQ(mp::detail::lock_acquire(state, true, false, weft::detail::Deadline{}), Acquired::yes);
  EXPECT_TRUE(mp::detail::lock_is_owned(state));
  EXPECT_FALSE(on_other_thread([&] {
    return mp::detail::lock_acquire(state, true, false, weft::detail::Deadline{}) != Acquired::no;
  }));
  mp::detail::lock_release(state, true);
  EXPECT_FALSE(mp::detail::lock_is_owned(state));
}

}  // namespace weft::test
