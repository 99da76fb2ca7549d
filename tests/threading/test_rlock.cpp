// weft::RLock: recursion levels, owner-only release (RuntimeError), exclusion, timeouts.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <mutex>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(RLock, OwnerReentersAndReleasesAsManyTimes) {
  weft::RLock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(kTick));
  EXPECT_TRUE(lock.is_owned());
  for (int i = 0; i < 4; ++i) {
    lock.release();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(lock.is_owned());
  }
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

TEST(RLock, ReleaseByANonOwnerThrowsRuntimeError) {
  weft::RLock lock;
  lock.acquire();
  const bool threw = on_other_thread([&] {
    try {
      lock.release();
      return false;
    } catch (const weft::RuntimeError&) {
      return true;
    }
  });
  EXPECT_TRUE(threw);
  EXPECT_TRUE(lock.locked());
  EXPECT_TRUE(lock.is_owned());
  lock.release();
}

TEST(RLock, OtherThreadsAreExcludedUntilFullyReleased) {
  weft::RLock lock;
  lock.acquire();
  lock.acquire();
  EXPECT_FALSE(on_other_thread([&] { return lock.acquire(false); }));
  EXPECT_FALSE(on_other_thread([&] { return lock.is_owned(); }));
  lock.release();
  const auto [got, elapsed] = on_other_thread([&] {
    Stopwatch sw;
    const bool got = lock.acquire(kTick);
    return std::pair(got, sw.elapsed());
  });
  EXPECT_FALSE(got);
  EXPECT_TRUE(expired_after(elapsed, kTick));
  lock.release();
  EXPECT_TRUE(on_other_thread([&] {
    const bool got = lock.acquire(false);
    const bool owned = lock.is_owned();
    lock.release();
    return got && owned;
  }));
}

TEST(RLock, NegativeTimeoutThrowsValueError) {
  weft::RLock lock;
  EXPECT_THROW(lock.acquire(-1ms), weft::ValueError);
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, WorksWithNestedStdLockGuards) {
  weft::RLock lock;
  {
    std::lock_guard outer(lock);
    {
      std::unique_lock inner(lock);
      EXPECT_TRUE(inner.owns_lock());
    }
    EXPECT_TRUE(lock.is_owned());
  }
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, NameIsKept) {
  const weft::RLock named("my-rlock");
  EXPECT_STREQ(named.name(), "my-rlock");
}

}  // namespace
