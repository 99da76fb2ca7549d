// weft::Semaphore and BoundedSemaphore: counting, release(n), timeouts and their ValueErrors.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <atomic>
#include <memory>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(Semaphore, DefaultsToOne) {
  weft::Semaphore sem;
  EXPECT_EQ(sem.value(), 1u);
  EXPECT_TRUE(sem.acquire());
  EXPECT_FALSE(sem.acquire(false));
  sem.release();
  EXPECT_EQ(sem.value(), 1u);
}

TEST(Semaphore, CountsDownAndUp) {
  weft::Semaphore sem(3);
  EXPECT_TRUE(sem.acquire());
  EXPECT_TRUE(sem.acquire(false));
  EXPECT_TRUE(sem.try_acquire());
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_FALSE(sem.try_acquire());
  sem.release(2);
  EXPECT_EQ(sem.value(), 2u);
  sem.release();
  sem.release();
  EXPECT_EQ(sem.value(), 4u);
}

TEST(Semaphore, InvalidInitialValueThrowsValueError) {
  EXPECT_THROW(weft::Semaphore(-1), weft::ValueError);
  EXPECT_THROW(weft::BoundedSemaphore(-1), weft::ValueError);
  EXPECT_THROW(weft::Semaphore(1LL << 31), weft::ValueError);
  EXPECT_THROW(weft::BoundedSemaphore(1LL << 40), weft::ValueError);
  EXPECT_NO_THROW(weft::Semaphore((1LL << 31) - 1));
  EXPECT_NO_THROW(weft::Semaphore(0));
}

TEST(Semaphore, ReleaseZeroThrowsValueError) {
  weft::Semaphore sem(0);
  EXPECT_THROW(sem.release(0), weft::ValueError);
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, TimedAcquireReturnsFalseAtZero) {
  weft::Semaphore sem(0);
  Stopwatch sw;
  EXPECT_FALSE(sem.acquire(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  sw = Stopwatch();
  EXPECT_FALSE(sem.try_acquire_for(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_FALSE(sem.acquire(0ms));
  EXPECT_FALSE(sem.try_acquire_for(-1ms));
  sem.release();
  EXPECT_TRUE(sem.acquire(kTick));
}

TEST(Semaphore, NegativeTimeoutCountsAsZero) {
  weft::Semaphore sem(0);
  EXPECT_FALSE(sem.acquire(-1ms));
  sem.release();
  EXPECT_TRUE(sem.acquire(-1ms));
}

TEST(Semaphore, BlockedAcquireWakesOnRelease) {
  weft::Semaphore sem(0);
  SleepProbe probe;
  auto waiter = std::async(std::launch::async, [&] {
    probe.arm();
    return sem.acquire(kPatience);
  });
  ASSERT_TRUE(probe.wait_asleep());
  sem.release();
  ASSERT_EQ(waiter.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
  EXPECT_EQ(sem.value(), 0u);
}

TEST(Semaphore, ReleaseNWakesNWaiters) {
  weft::Semaphore sem(0);
  constexpr int kWaiters = 3;
  std::atomic<int> acquired{0};
  SleepProbe probes[kWaiters];
  std::vector<std::unique_ptr<weft::Thread>> waiters;
  for (auto& probe : probes) {
    waiters.push_back(std::make_unique<weft::Thread>([&] {
      probe.arm();
      if (sem.acquire(kPatience)) ++acquired;
    }));
    waiters.back()->start();
  }
  for (auto& probe : probes) ASSERT_TRUE(probe.wait_asleep());
  sem.release(2);
  EXPECT_TRUE(eventually([&] { return acquired == 2; }));
  EXPECT_EQ(sem.value(), 0u);
  sem.release();
  for (auto& t : waiters) EXPECT_TRUE(t->join(kPatience));
  EXPECT_EQ(acquired, 3);
}

TEST(BoundedSemaphore, ReleasingAboveTheInitialValueThrowsValueError) {
  weft::BoundedSemaphore sem(2);
  EXPECT_THROW(sem.release(), weft::ValueError);
  EXPECT_EQ(sem.value(), 2u);
  sem.acquire();
  sem.acquire();
  sem.release(2);
  EXPECT_EQ(sem.value(), 2u);
  EXPECT_THROW(sem.release(), weft::ValueError);
}

TEST(BoundedSemaphore, AnOverReleaseReleasesNothing) {
  weft::BoundedSemaphore sem(2);
  sem.acquire();
  EXPECT_THROW(sem.release(2), weft::ValueError);
  EXPECT_EQ(sem.value(), 1u);
  sem.release();
  EXPECT_EQ(sem.value(), 2u);
}

TEST(BoundedSemaphore, BehavesAsASemaphoreWithinItsBound) {
  weft::BoundedSemaphore sem;
  EXPECT_TRUE(sem.acquire());
  EXPECT_FALSE(sem.acquire(kTick));
  sem.release();
  EXPECT_TRUE(sem.acquire(false));
  sem.release();
}

}  // namespace
