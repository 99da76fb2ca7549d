// weft::Timer: fires once after its interval, cancel() prevents it, and it is a Thread.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <atomic>
#include <memory>
#include <regex>
#include <string>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(Timer, FiresAfterItsIntervalWithItsArguments) {
  weft::Event fired;
  std::atomic<int> calls{0};
  std::string got;
  weft::Timer timer(
      kTick,
      [&](int n, std::string s) {
        got = s + std::to_string(n);
        ++calls;
        fired.set();
      },
      7, std::string("x"));
  Stopwatch sw;
  timer.start();
  ASSERT_TRUE(fired.wait(kPatience));
  EXPECT_GE(sw.elapsed(), kTick - kEarly);
  EXPECT_TRUE(timer.join(kPatience));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(got, "x7");
}

TEST(Timer, TakesMoveOnlyArguments) {
  std::atomic<int> seen{0};
  {
    weft::Timer timer(1ms, [&seen](std::unique_ptr<int> value) { seen = *value; }, std::make_unique<int>(7));
    timer.start();
  }
  EXPECT_EQ(seen, 7);
}

// A deadline already passed (interval = deadline - now < 0) fires at once, as in Python.
TEST(Timer, ANegativeIntervalFiresAtOnce) {
  std::atomic<bool> fired{false};
  weft::Timer timer(-5ms, [&] { fired = true; });
  timer.start();
  EXPECT_TRUE(timer.join(kPatience));
  EXPECT_TRUE(fired);
}

TEST(Timer, CancelBeforeFiringPreventsIt) {
  std::atomic<bool> fired{false};
  weft::Timer timer(kPatience * 3, [&] { fired = true; });
  timer.start();
  Stopwatch sw;
  timer.cancel();
  EXPECT_TRUE(timer.join(kPatience));
  EXPECT_LT(sw.elapsed(), kPatience);
  EXPECT_FALSE(fired);
}

TEST(Timer, CancelBeforeStartPreventsIt) {
  std::atomic<bool> fired{false};
  weft::Timer timer(0ms, [&] { fired = true; });
  timer.cancel();
  timer.start();
  EXPECT_TRUE(timer.join(kPatience));
  EXPECT_FALSE(fired);
}

TEST(Timer, CancelAfterFiringIsHarmless) {
  weft::Event fired;
  weft::Timer timer(0ms, [&] { fired.set(); });
  timer.start();
  ASSERT_TRUE(fired.wait(kPatience));
  timer.cancel();
  EXPECT_TRUE(timer.join(kPatience));
}

TEST(Timer, IsAThread) {
  weft::Timer timer(0ms, [] {});
  EXPECT_TRUE(std::regex_match(timer.name(), std::regex("Thread-[1-9][0-9]*"))) << timer.name();
  EXPECT_FALSE(timer.daemon());
  EXPECT_FALSE(timer.is_alive());
  timer.start();
  EXPECT_THROW(timer.start(), weft::RuntimeError);
  timer.join();
  EXPECT_FALSE(timer.is_alive());
}

TEST(Timer, DestructionWaitsForAnUncancelledTimerToFire) {
  std::atomic<bool> fired{false};
  {
    weft::Timer timer(kTick, [&] { fired = true; });
    timer.start();
  }
  EXPECT_TRUE(fired);
}

TEST(Timer, ItsFunctionMayDestroyIt) {
  weft::Event fired;
  std::unique_ptr<weft::Timer> timer;
  timer = std::make_unique<weft::Timer>(0ms, [&] {
    timer.reset();
    fired.set();
  });
  const weft::ThreadHandle thread = timer->handle();
  timer->start();
  ASSERT_TRUE(fired.wait(kPatience));
  EXPECT_TRUE(thread.join(kPatience));
  EXPECT_EQ(timer, nullptr);
}

TEST(Timer, AnIntervalTooLargeForNanosecondsNeverFires) {
  weft::Event fired;
  weft::Timer timer(std::chrono::seconds::max(), [&] { fired.set(); });
  timer.start();
  EXPECT_FALSE(fired.wait(4 * kTick));
  timer.cancel();
  EXPECT_TRUE(timer.join(kPatience));
}

}  // namespace
