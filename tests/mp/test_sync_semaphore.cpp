// weft::mp::Semaphore and BoundedSemaphore within one process: every call and error, and waiters
// woken by other threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/mp/semaphore.hpp"

namespace weft::test {
namespace {

TEST(MpSemaphore, CountsDownAndUp) {
  mp::Semaphore semaphore(2);
  EXPECT_EQ(semaphore.get_value(), 2u);
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.acquire(false));
  EXPECT_FALSE(semaphore.acquire(false));
  EXPECT_FALSE(semaphore.try_acquire());
  EXPECT_EQ(semaphore.value(), 0u);
  semaphore.release(2);
  EXPECT_EQ(semaphore.get_value(), 2u);
  semaphore.release();
  EXPECT_EQ(semaphore.get_value(), 3u);
}

TEST(MpSemaphore, DefaultIsOne) {
  mp::Semaphore semaphore;
  EXPECT_EQ(semaphore.get_value(), 1u);
  mp::BoundedSemaphore bounded;
  EXPECT_EQ(bounded.get_value(), 1u);
}

TEST(MpSemaphore, TimedAcquireExpires) {
  mp::Semaphore semaphore(0);
  Stopwatch watch;
  EXPECT_FALSE(semaphore.acquire(kTick));
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  EXPECT_FALSE(semaphore.try_acquire_for(kTick));
  EXPECT_FALSE(semaphore.try_acquire_for(-1s));
  EXPECT_FALSE(semaphore.acquire(0s));
  EXPECT_FALSE(semaphore.acquire(-1s)) << "a negative timeout counts as 0, as in Python";
  semaphore.release();
  EXPECT_TRUE(semaphore.acquire(-1s));
}

TEST(MpSemaphore, Errors) {
  EXPECT_THROW(mp::Semaphore(-1), ValueError);
  EXPECT_THROW(mp::Semaphore(1LL << 31), ValueError);
  EXPECT_NO_THROW(mp::Semaphore(mp::Semaphore::kMaxValue));
  mp::Semaphore semaphore(mp::Semaphore::kMaxValue);
  EXPECT_THROW(semaphore.release(), ValueError);
  EXPECT_THROW(semaphore.release(0), ValueError);
  EXPECT_EQ(semaphore.get_value(), mp::Semaphore::kMaxValue);
}

TEST(MpBoundedSemaphore, RefusesToExceedItsInitialValue) {
  mp::BoundedSemaphore semaphore(2);
  EXPECT_THROW(semaphore.release(), ValueError);
  ASSERT_TRUE(semaphore.acquire());
  EXPECT_THROW(semaphore.release(2), ValueError);
  EXPECT_EQ(semaphore.get_value(), 1u);
  semaphore.release();
  EXPECT_EQ(semaphore.get_value(), 2u);
}

TEST(MpSemaphore, CopiesShareTheCounter) {
  mp::Semaphore semaphore(1);
  mp::Semaphore copy = semaphore;
  ASSERT_TRUE(copy.acquire());
  EXPECT_EQ(semaphore.get_value(), 0u);
}

TEST(MpSemaphore, ReleaseWakesWaitingThreads) {
  mp::Semaphore semaphore(0);
  constexpr int kWaiters = 3;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWaiters; ++i) {
    threads.emplace_back([&] {
      if (semaphore.acquire(kPatience)) woken.fetch_add(1);
    });
  }
  semaphore.release(kWaiters);
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(woken.load(), kWaiters);
  EXPECT_EQ(semaphore.get_value(), 0u);
}

TEST(MpSemaphore, BoundsConcurrentHolders) {
  mp::Semaphore semaphore(2);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < scaled(2000); ++i) {
        ASSERT_TRUE(semaphore.acquire(kPatience));
        const int now = inside.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
        semaphore.release();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_EQ(semaphore.get_value(), 2u);
}

}  // namespace
}  // namespace weft::test
