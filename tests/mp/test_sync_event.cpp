// weft::mp::Event within one process: set, clear, waits with and without timeouts, waking threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/mp/event.hpp"

namespace weft::test {
namespace {

TEST(MpEvent, SetClear) {
  mp::Event event;
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0s));
  event.set();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST(MpEvent, TimedWaitExpires) {
  mp::Event event;
  Stopwatch watch;
  EXPECT_FALSE(event.wait(kTick));
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  EXPECT_FALSE(event.wait(-1ms)) << "a negative timeout counts as 0, as in Python";
  event.set();
  EXPECT_TRUE(event.wait(-1ms));
}

TEST(MpEvent, SetWakesEveryWaitingThread) {
  mp::Event event;
  std::atomic<int> woken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([copy = event, &woken]() mutable {
      if (copy.wait(kPatience)) woken.fetch_add(1);
    });
  }
  event.set();
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(woken.load(), 3);
}

TEST(MpEvent, ASetThatIsClearedAtOnceStillEndsTheWait) {
  mp::Event event;
  SleepProbe probe;
  std::atomic<bool> result{false};
  std::thread waiter([&] {
    probe.arm();
    result = event.wait(kPatience);
  });
  EXPECT_TRUE(probe.wait_asleep());
  event.set();
  event.clear();
  waiter.join();
  EXPECT_TRUE(result) << "the waiter missed the set()";
}

TEST(MpEvent, ClearAfterWaitersRegisteredThenSetAgain) {
  mp::Event event;
  std::thread waiter([&] { EXPECT_TRUE(event.wait(kPatience)); });
  event.clear();
  event.set();
  waiter.join();
}

}  // namespace
}  // namespace weft::test
