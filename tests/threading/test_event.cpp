// weft::Event: set/clear/is_set, wait with and without timeout, set waking every waiter.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <atomic>
#include <chrono>
#include <limits>
#include <memory>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(Event, StartsClear) {
  weft::Event event;
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(0ms));
}

TEST(Event, TimedWaitReturnsFalseWhenNeverSet) {
  weft::Event event;
  Stopwatch sw;
  EXPECT_FALSE(event.wait(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TEST(Event, SetAndClear) {
  weft::Event event;
  event.set();
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0ms));
  event.set();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(0ms));
}

TEST(Event, NegativeTimeoutCountsAsZero) {
  weft::Event event;
  EXPECT_FALSE(event.wait(-1ms));
  event.set();
  EXPECT_TRUE(event.wait(-1ms));
}

// Python: Event().wait(float("nan")) raises ValueError.
TEST(Event, NaNTimeoutThrowsValueError) {
  weft::Event event;
  EXPECT_THROW(event.wait(std::chrono::duration<double>(std::numeric_limits<double>::quiet_NaN())),
               weft::ValueError);
}

TEST(Event, SetWakesEveryWaiter) {
  weft::Event event;
  constexpr int kWaiters = 4;
  std::atomic<int> woke{0};
  SleepProbe probes[kWaiters];
  std::vector<std::unique_ptr<weft::Thread>> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.push_back(std::make_unique<weft::Thread>([&, i] {
      probes[i].arm();
      const bool result = i % 2 == 0 ? event.wait() : event.wait(kPatience);
      if (result) ++woke;
    }));
    waiters.back()->start();
  }
  for (auto& probe : probes) ASSERT_TRUE(probe.wait_asleep());
  event.set();
  for (auto& t : waiters) EXPECT_TRUE(t->join(kPatience));
  EXPECT_EQ(woke, kWaiters);
}

// Python's Event.wait returns True once notified, even if the flag is cleared before the waiter
// runs again.
TEST(Event, ASetThatIsClearedAtOnceStillEndsTheWait) {
  weft::Event event;
  SleepProbe probe;
  std::atomic<bool> result{false};
  weft::Thread waiter([&] {
    probe.arm();
    result = event.wait(kPatience);
  });
  waiter.start();
  ASSERT_TRUE(probe.wait_asleep());
  event.set();
  event.clear();
  EXPECT_TRUE(waiter.join(kPatience));
  EXPECT_TRUE(result) << "the waiter missed the set()";
}

TEST(Event, ClearedBeforeTheWaiterArrivesIsNotSeen) {
  weft::Event event;
  event.set();
  event.clear();
  EXPECT_FALSE(on_other_thread([&] { return event.wait(kTick); }));
}

TEST(Event, ReusableAcrossManySetClearRounds) {
  weft::Event ping;
  weft::Event pong;
  constexpr int kRounds = 200;
  weft::Thread partner([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!ping.wait(kPatience)) return;
      ping.clear();
      pong.set();
    }
  });
  partner.start();
  for (int i = 0; i < kRounds; ++i) {
    ping.set();
    ASSERT_TRUE(pong.wait(kPatience)) << "round " << i;
    pong.clear();
  }
  partner.join();
}

}  // namespace
