// weft::Lock: plain/non-blocking/timed acquire, RuntimeError/ValueError, std lock adaptors.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(Lock, AcquireAndRelease) {
  weft::Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, NonBlockingAcquireFailsWhileHeld) {
  weft::Lock lock;
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_FALSE(lock.try_lock());
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(false); }));
  lock.release();
  EXPECT_TRUE(lock.try_lock());
  lock.unlock();
}

TEST(Lock, ReleasingAnUnlockedLockThrowsRuntimeError) {
  weft::Lock lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  lock.acquire();
  lock.release();
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, AnotherThreadMayRelease) {
  weft::Lock lock;
  lock.acquire();
  on_other_thread([&] { lock.release(); });
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, TimedAcquireReturnsFalseWhileHeld) {
  weft::Lock lock;
  lock.acquire();
  const auto [got, elapsed] = on_other_thread([&] {
    Stopwatch sw;
    const bool got = lock.acquire(kTick);
    return std::pair(got, sw.elapsed());
  });
  EXPECT_FALSE(got);
  EXPECT_TRUE(expired_after(elapsed, kTick));
  EXPECT_FALSE(on_other_thread([&] { return lock.try_lock_for(kTick); }));
  EXPECT_FALSE(on_other_thread(
      [&] { return lock.try_lock_until(std::chrono::steady_clock::now() + kTick); }));
  EXPECT_FALSE(on_other_thread(
      [&] { return lock.try_lock_until(std::chrono::system_clock::now() + kTick); }));
  lock.release();
}

TEST(Lock, BlockedAcquireSucceedsOnceReleased) {
  weft::Lock lock;
  lock.acquire();
  SleepProbe probe;
  auto waiter = std::async(std::launch::async, [&] {
    probe.arm();
    const bool got = lock.acquire(kPatience);
    if (got) lock.release();
    return got;
  });
  ASSERT_TRUE(probe.wait_asleep());
  lock.release();
  ASSERT_EQ(waiter.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(waiter.get());
}

// time_point<C, hours>::max() is "never", though nanoseconds cannot hold it.
TEST(Lock, TryLockUntilATimeTooFarToRepresentWaitsUntilReleased) {
  const auto blocks_until_released = [](auto when) {
    weft::Lock lock;
    lock.acquire();
    SleepProbe probe;
    auto waiter = std::async(std::launch::async, [&] {
      probe.arm();
      const bool got = lock.try_lock_until(when);
      if (got) lock.release();
      return got;
    });
    EXPECT_TRUE(probe.wait_asleep());
    lock.release();
    ASSERT_EQ(waiter.wait_for(kPatience), std::future_status::ready);
    EXPECT_TRUE(waiter.get());
  };
  blocks_until_released(std::chrono::time_point<std::chrono::steady_clock, std::chrono::hours>::max());
  blocks_until_released(std::chrono::time_point<std::chrono::system_clock, std::chrono::hours>::max());

  weft::Lock lock;
  lock.acquire();
  EXPECT_FALSE(on_other_thread([&] {
    return lock.try_lock_until(std::chrono::time_point<std::chrono::steady_clock, std::chrono::hours>::min());
  }));
  EXPECT_FALSE(on_other_thread([&] {
    return lock.try_lock_until(std::chrono::time_point<std::chrono::system_clock, std::chrono::hours>::min());
  }));
  lock.release();
}

TEST(Lock, NegativeTimeoutThrowsValueError) {
  weft::Lock lock;
  EXPECT_THROW(lock.acquire(-1ms), weft::ValueError);
  EXPECT_FALSE(lock.locked());
  lock.acquire();
  EXPECT_THROW(lock.acquire(-1ms), weft::ValueError);
  lock.release();
}

// Python: lock.acquire(timeout=float("nan")) raises ValueError.
TEST(Lock, NaNTimeoutThrowsValueError) {
  using Seconds = std::chrono::duration<double>;
  const Seconds nan(std::numeric_limits<double>::quiet_NaN());
  weft::Lock lock;
  const auto refuses = [&lock](auto acquire) {
    try {
      if (acquire()) lock.release();
      ADD_FAILURE() << "a NaN timeout was accepted";
    } catch (const weft::ValueError& e) {
      EXPECT_STREQ(e.what(), "Invalid value NaN (not a number)");
    }
  };
  refuses([&] { return lock.acquire(nan); });
  refuses([&] { return lock.try_lock_for(nan); });
  refuses([&] { return lock.try_lock_until(std::chrono::time_point<std::chrono::system_clock, Seconds>(nan)); });
  refuses([&] { return lock.try_lock_until(std::chrono::time_point<std::chrono::steady_clock, Seconds>(nan)); });
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, TryLockForWithNegativeDurationTriesOnce) {
  weft::Lock lock;
  EXPECT_TRUE(lock.try_lock_for(-1ms));
  EXPECT_FALSE(lock.try_lock_for(-1ms));
  lock.unlock();
}

TEST(Lock, ZeroTimeoutTriesOnce) {
  weft::Lock lock;
  EXPECT_TRUE(lock.acquire(0ms));
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(0ms); }));
  lock.release();
}

TEST(Lock, WorksWithStdLockGuardAndUniqueLock) {
  weft::Lock lock;
  {
    std::lock_guard guard(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  {
    std::unique_lock held(lock, std::try_to_lock);
    EXPECT_TRUE(held.owns_lock());
    held.unlock();
    EXPECT_FALSE(lock.locked());
    EXPECT_TRUE(held.try_lock_for(kTick));
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, WorksWithStdScopedLockAndStdLock) {
  weft::Lock a;
  weft::Lock b;
  {
    std::scoped_lock both(a, b);
    EXPECT_TRUE(a.locked());
    EXPECT_TRUE(b.locked());
  }
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
  std::lock(a, b);
  EXPECT_TRUE(a.locked());
  EXPECT_TRUE(b.locked());
  a.unlock();
  b.unlock();
}

TEST(Lock, ExcludesOtherThreads) {
  weft::Lock lock;
  long counter = 0;
  constexpr int kThreads = 4;
  constexpr int kRounds = 1000;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        std::lock_guard guard(lock);
        ++counter;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter, kThreads * kRounds);
}

TEST(Lock, NameIsKept) {
  const weft::Lock named("my-lock");
  const weft::Lock unnamed;
  EXPECT_STREQ(named.name(), "my-lock");
  EXPECT_EQ(unnamed.name(), nullptr);
}

}  // namespace
