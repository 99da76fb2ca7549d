// green::Event and green::AsyncResult: setting, waiting, timeouts, FIFO
// wake-ups, interrupted waiters, LoopExit, and results set from other
// threads.
#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/async_result.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"
#include "weft/threading/event.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TEST(Event, SetAndClearMoveTheFlag) {
  green::Event event;
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  EXPECT_TRUE(event.ready());
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST(Event, WaitReturnsAtOnceWhenSet) {
  green::Event event;
  event.set();
  EXPECT_TRUE(event.wait());
  EXPECT_TRUE(event.wait(0s));
}

TEST(Event, WaitTimesOutWithFalse) {
  green::Event event;
  const auto start = Clock::now();
  EXPECT_FALSE(event.wait(50ms));
  const auto waited = Clock::now() - start;
  EXPECT_GE(waited, 45ms);
  EXPECT_LT(waited, 10s);
  EXPECT_FALSE(event.wait(0s));
  EXPECT_FALSE(event.wait(-1s));
}

TEST(Event, WaitFromTheMainGreenletRunsTheHub) {
  green::Event event;
  auto setter = green::spawn([&] { event.set(); });
  EXPECT_TRUE(event.wait());
  setter.join();
}

TEST(Event, SetWakesEveryWaiterInTheOrderTheyWaited) {
  green::Event event;
  std::vector<int> woken;
  std::vector<green::AnyGreenlet> waiters;
  for (int i = 0; i < 5; ++i) {
    waiters.push_back(green::spawn([&, i] {
      EXPECT_TRUE(event.wait());
      woken.push_back(i);
    }));
  }
  green::sleep();  // every waiter parks
  EXPECT_TRUE(woken.empty());
  event.set();
  green::joinall(waiters);
  EXPECT_EQ(woken, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Event, AWaiterWokenBySetReturnsTrueEvenIfClearedBeforeItRuns) {
  green::Event event;
  auto waiter = green::spawn([&] { return event.wait(); });
  green::sleep();
  event.set();
  event.clear();
  EXPECT_TRUE(waiter.get());
}

TEST(Event, LoopExitWhenNothingCanSetIt) {
  green::Event event;
  try {
    event.wait();
    FAIL() << "wait() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("Event.wait"), std::string::npos) << exit.what();
  }
  // The event is still usable.
  auto setter = green::spawn([&] { event.set(); });
  EXPECT_TRUE(event.wait());
  setter.join();
}

TEST(Event, AKilledWaiterLeavesTheOthersWaiting) {
  green::Event event;
  std::vector<int> woken;
  std::vector<green::AnyGreenlet> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(green::spawn([&, i] {
      event.wait();
      woken.push_back(i);
    }));
  }
  green::sleep();
  waiters[1].kill();
  EXPECT_TRUE(waiters[1].ready());
  event.set();
  green::joinall(waiters);
  EXPECT_EQ(woken, (std::vector<int>{0, 2}));
}

TEST(Event, ATimeoutEndsTheWaitCleanly) {
  green::Event event;
  {
    green::Timeout limit(20ms);
    try {
      event.wait();
      FAIL() << "wait() returned";
    } catch (const green::Timeout& expired) {
      EXPECT_TRUE(expired == limit);
    }
  }
  auto waiter = green::spawn([&] { return event.wait(); });
  green::sleep();
  event.set();
  EXPECT_TRUE(waiter.get());
}

TEST(AsyncResult, GetReturnsTheValueSetByAnotherGreenlet) {
  green::AsyncResult<std::string> result;
  EXPECT_FALSE(result.ready());
  EXPECT_FALSE(result.successful());
  auto setter = green::spawn([&] { result.set("hello"); });
  EXPECT_EQ(result.get(), "hello");
  EXPECT_TRUE(result.ready());
  EXPECT_TRUE(result.successful());
  EXPECT_EQ(result.value(), "hello");
  EXPECT_EQ(result.exception(), nullptr);
  EXPECT_TRUE(result.wait());
  EXPECT_EQ(result.get(false), "hello");
  setter.join();
}

TEST(AsyncResult, SetExceptionIsRethrownByGet) {
  green::AsyncResult<int> result;
  result.set_exception(std::invalid_argument("bad"));
  EXPECT_TRUE(result.ready());
  EXPECT_FALSE(result.successful());
  EXPECT_NE(result.exception(), nullptr);
  EXPECT_THROW(result.get(), std::invalid_argument);
  EXPECT_THROW(result.value(), weft::ValueError);
  EXPECT_TRUE(result.wait());  // wait() never throws the stored exception
  EXPECT_THROW(result.set_exception(std::exception_ptr()), weft::ValueError);
}

TEST(AsyncResult, ALaterSetReplacesTheOutcome) {
  green::AsyncResult<int> result;
  result.set_exception(std::runtime_error("first"));
  result.set(2);
  EXPECT_TRUE(result.successful());
  EXPECT_EQ(result.get(), 2);
}

TEST(AsyncResult, GetWithoutBlockingOrPastItsTimeoutThrowsTimeout) {
  green::AsyncResult<int> result;
  EXPECT_THROW(result.get(false), green::Timeout);
  const auto start = Clock::now();
  EXPECT_THROW(result.get(true, 30ms), green::Timeout);
  EXPECT_GE(Clock::now() - start, 25ms);
  EXPECT_FALSE(result.wait(10ms));
  EXPECT_THROW(result.value(), weft::ValueError);
}

TEST(AsyncResult, VoidResults) {
  green::AsyncResult<> result;
  auto setter = green::spawn([&] { result.set(); });
  result.get();
  EXPECT_TRUE(result.successful());
  setter.join();
}

TEST(AsyncResult, TryGetReturnsNothingUntilReady) {
  green::AsyncResult<std::string> result;
  EXPECT_FALSE(result.try_get().has_value());
  const auto start = Clock::now();
  EXPECT_FALSE(result.try_get(30ms).has_value());
  EXPECT_GE(Clock::now() - start, 25ms);
  EXPECT_FALSE(result.try_get(0s).has_value());
  auto setter = green::spawn([&] { result.set("late"); });
  EXPECT_EQ(result.try_get(5s), "late");  // parks until the set
  EXPECT_EQ(result.try_get(), "late");
  setter.join();
}

TEST(AsyncResult, TryGetRethrowsTheStoredException) {
  green::AsyncResult<int> result;
  result.set_exception(std::invalid_argument("bad"));
  EXPECT_THROW(result.try_get(), std::invalid_argument);
  EXPECT_THROW(result.try_get(10ms), std::invalid_argument);
}

TEST(AsyncResult, VoidTryGet) {
  green::AsyncResult<> result;
  EXPECT_FALSE(result.try_get());
  EXPECT_FALSE(result.try_get(10ms));
  auto setter = green::spawn([&] { result.set(); });
  EXPECT_TRUE(result.try_get(5s));
  EXPECT_TRUE(result.try_get());
  setter.join();
  green::AsyncResult<> failed;
  failed.set_exception(std::runtime_error("failed"));
  EXPECT_THROW(failed.try_get(), std::runtime_error);
  EXPECT_THROW(failed.try_get(10ms), std::runtime_error);
}

TEST(AsyncResult, EveryWaiterIsWokenInOrder) {
  green::AsyncResult<int> result;
  std::vector<int> seen;
  std::vector<green::AnyGreenlet> getters;
  for (int i = 0; i < 4; ++i) {
    getters.push_back(green::spawn([&, i] { seen.push_back(i * 100 + result.get()); }));
  }
  green::sleep();
  result.set(7);
  green::joinall(getters);
  EXPECT_EQ(seen, (std::vector<int>{7, 107, 207, 307}));
}

TEST(AsyncResult, LoopExitWhenNothingCanSetIt) {
  green::AsyncResult<int> result;
  try {
    result.get();
    FAIL() << "get() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("AsyncResult.get"), std::string::npos) << exit.what();
  }
}

TEST(AsyncResult, AKilledGetterLeavesTheResultConsistent) {
  green::AsyncResult<int> result;
  auto doomed = green::spawn([&] { return result.get(); });
  auto survivor = green::spawn([&] { return result.get(); });
  green::sleep();
  doomed.kill();
  result.set(5);
  EXPECT_EQ(survivor.get(), 5);
  EXPECT_TRUE(doomed.successful());  // GreenletExit counts as success
}

TEST(AsyncResult, ATimeoutThrownIntoAGetterLeavesTheResultConsistent) {
  green::AsyncResult<int> result;
  {
    green::Timeout limit(10ms);
    EXPECT_THROW(result.get(), green::Timeout);
  }
  auto getter = green::spawn([&] { return result.get(); });
  green::sleep();
  result.set(8);
  EXPECT_EQ(getter.get(), 8);
}

TEST(AsyncResult, SetFromAnotherThread) {
  green::AsyncResult<int> result(green::SetFrom::any_thread);
  std::thread setter([&] { result.set_threadsafe(42); });
  EXPECT_EQ(result.get(), 42);
  setter.join();
}

TEST(AsyncResult, SetExceptionFromAnotherThread) {
  green::AsyncResult<> result(green::SetFrom::any_thread);
  std::thread setter([&] { result.set_exception_threadsafe(std::make_exception_ptr(std::out_of_range("far"))); });
  EXPECT_THROW(result.get(), std::out_of_range);
  setter.join();
}

TEST(AsyncResult, ManyGreenletsWaitForOneCrossThreadSet) {
  green::AsyncResult<int> result(green::SetFrom::any_thread);
  std::vector<green::Greenlet<int>> getters;
  for (int i = 0; i < 10; ++i) getters.push_back(green::spawn([&] { return result.get(); }));
  green::sleep();
  std::thread setter([&] { result.set_threadsafe(9); });
  for (auto& getter : getters) EXPECT_EQ(getter.get(), 9);
  setter.join();
}

TEST(AsyncResult, ADeliveryToADestroyedResultIsDropped) {
  green::AsyncResult<int> later(green::SetFrom::any_thread);
  weft::Event posted;
  std::thread setter;
  {
    green::AsyncResult<int> gone(green::SetFrom::any_thread);
    setter = std::thread([&] {
      gone.set_threadsafe(1);
      posted.set();
    });
    ASSERT_TRUE(posted.wait(30s));
  }
  std::thread second([&] { later.set_threadsafe(2); });
  // Deliveries run in the order they were posted: the dropped one first.
  EXPECT_EQ(later.get(), 2);
  setter.join();
  second.join();
}

TEST(AsyncResult, ThreadsafeCallsNeedAResultMadeForThem) {
  green::AsyncResult<int> result;
  EXPECT_THROW(result.set_threadsafe(1), weft::RuntimeError);
  EXPECT_THROW(result.set_exception_threadsafe(std::make_exception_ptr(std::runtime_error("x"))),
               weft::RuntimeError);
}

}  // namespace
