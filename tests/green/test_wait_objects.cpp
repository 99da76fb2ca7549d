// gevent.wait and gevent.iwait: completion order over Greenlets, Events and
// AsyncResults, count, timeout, errors, unlinking on every way out, results
// set from another thread, wait() for everything, and gevent's wait_read /
// wait_write names.
#include <gtest/gtest.h>
#include <unistd.h>

#include <any>
#include <array>
#include <chrono>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/async_result.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/timeout.hpp"
#include "weft/green/wait.hpp"
#include "weft/green/wait_objects.hpp"
#include "weft/net/errors.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;

namespace {

TEST(Wait, ReturnsTheObjectsInTheOrderTheyBecameReady) {
  green::Event event;
  green::AsyncResult<int> result;
  green::Event gate;
  auto worker = green::spawn([&] {
    gate.wait();
    return 7;
  });
  auto driver = green::spawn([&] {
    result.set(1);
    gate.set();  // the worker finishes once it runs
    event.set();
  });
  std::vector<green::Waitable> done = green::wait({worker, event, result});
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[0] == result);
  EXPECT_TRUE(done[1] == event);
  EXPECT_TRUE(done[2] == worker);
  EXPECT_EQ(done[0].async_result(), &result);
  EXPECT_EQ(done[1].event(), &event);
  EXPECT_TRUE(done[2].greenlet() == worker);
  EXPECT_EQ(worker.get(), 7);
  EXPECT_TRUE(driver.ready());
}

TEST(Wait, ThoseAlreadyReadyComeFirstInTheGivenOrder) {
  green::Event a;
  green::Event b;
  green::Event later;
  b.set();
  a.set();
  auto setter = green::spawn([&] { later.set(); });
  std::vector<green::Waitable> done = green::wait({later, b, a});
  ASSERT_EQ(done.size(), 3u);
  EXPECT_TRUE(done[0] == b);
  EXPECT_TRUE(done[1] == a);
  EXPECT_TRUE(done[2] == later);
  setter.join();
}

TEST(Wait, CountStopsAfterThatManyAndUnlinksTheRest) {
  green::Event first;
  green::Event second;
  green::AsyncResult<std::string> third;
  auto setter = green::spawn([&] { second.set(); });
  std::vector<green::Waitable> done = green::wait({first, second, third}, std::nullopt, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == second);
  // Nothing of the finished wait is left in the objects.
  first.set();
  third.set("x");
  EXPECT_EQ(third.get(), "x");
  EXPECT_TRUE(green::wait({first, second}, std::nullopt, 0).empty());
  EXPECT_EQ(green::wait({first, second}, std::nullopt, 5).size(), 2u);
}

TEST(Wait, TimeoutReturnsWhatIsReadySoFar) {
  green::Event ready;
  green::Event never;
  ready.set();
  const auto start = std::chrono::steady_clock::now();
  std::vector<green::Waitable> done = green::wait({never, ready}, 0.05s);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 40ms);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == ready);
  EXPECT_TRUE(green::wait({never}, 0s).empty());
  EXPECT_TRUE(green::wait({never}, -1s).empty());
  never.set();  // no link of the timed-out waits is left
  EXPECT_TRUE(never.is_set());
}

TEST(Wait, AFailedGreenletOrResultIsReadyNotThrown) {
  auto failing = green::spawn([]() -> int { throw std::runtime_error("boom"); });
  green::AsyncResult<int> result;
  result.set_exception(std::runtime_error("bad"));
  std::vector<green::Waitable> done = green::wait({failing, result});
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0] == result);
  EXPECT_TRUE(done[1] == failing);
  EXPECT_TRUE(done[1].greenlet().exception() != nullptr);
  EXPECT_TRUE(done[0].ready());
}

TEST(Wait, AnEmptyGreenletHandleIsAnError) {
  green::Event event;
  green::AnyGreenlet empty;
  EXPECT_THROW(green::wait({event, empty}), green::error);
  EXPECT_THROW(green::iwait({empty}), green::error);
  event.set();
}

TEST(Wait, ATimeoutThrownInUnlinksFromEveryObject) {
  green::Event never;
  green::AsyncResult<int> pending;
  auto other = green::spawn([&] { never.wait(); });
  {
    green::Timeout limit(0.02s);
    EXPECT_THROW(green::wait({never, pending, other}), green::Timeout);
  }
  pending.set(3);
  never.set();
  other.join();
  EXPECT_TRUE(other.successful());
}

TEST(IWait, AnAdvanceThatThrewFinishesTheRange) {
  green::Event never;
  green::IWait waiting = green::iwait({never});
  {
    green::Timeout limit(0.02s);
    EXPECT_THROW(waiting.next(), green::Timeout);
  }
  never.set();
  EXPECT_FALSE(waiting.next());
}

TEST(Wait, AKilledWaiterEndsAndUnlinks) {
  green::Event never;
  green::Event parked;
  bool exited = false;
  auto waiter = green::spawn([&] {
    try {
      parked.set();
      green::wait({never});
    } catch (const green::GreenletExit&) {
      exited = true;
      throw;
    }
  });
  parked.wait();
  waiter.kill();
  EXPECT_TRUE(exited);
  EXPECT_TRUE(waiter.ready());
  never.set();
}

TEST(Wait, NothingToWakeItRaisesLoopExitNamingTheWait) {
  green::Event never;
  try {
    green::wait({never});
    FAIL() << "no LoopExit";
  } catch (const green::LoopExit& e) {
    EXPECT_NE(std::string(e.what()).find("wait"), std::string::npos) << e.what();
  }
  try {
    for (const green::Waitable& w : green::iwait({never})) ADD_FAILURE() << "yielded " << w.ready();
    FAIL() << "no LoopExit";
  } catch (const green::LoopExit& e) {
    EXPECT_NE(std::string(e.what()).find("iwait"), std::string::npos) << e.what();
  }
}

TEST(Wait, AResultSetFromAnotherThreadIsAwaitedWithoutLoopExit) {
  green::AsyncResult<int> result(green::SetFrom::any_thread);
  green::Event never;
  std::thread setter([&] { result.set_threadsafe(42); });
  std::vector<green::Waitable> done = green::wait({never, result}, std::nullopt, 1);
  setter.join();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == result);
  EXPECT_EQ(result.get(), 42);
}

TEST(Wait, TakesAnyRangeOfWaitables) {
  std::vector<green::Greenlet<int>> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(green::spawn([i] { return i * i; }));
  std::vector<green::Waitable> done = green::wait(workers);
  ASSERT_EQ(done.size(), 4u);
  for (std::size_t i = 0; i < done.size(); ++i) EXPECT_TRUE(done[i] == workers[i]);

  std::array<green::Event, 2> events;
  auto setter = green::spawn([&] {
    events[1].set();
    events[0].set();
  });
  done = green::wait(events);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].event(), &events[1]);
  EXPECT_EQ(done[1].event(), &events[0]);

  const std::vector<green::Waitable> listed{events[0], workers[0]};
  EXPECT_EQ(green::wait(listed).size(), 2u);
  setter.join();
}

TEST(Wait, AnObjectListedTwiceIsReturnedTwice) {
  green::Event event;
  auto setter = green::spawn([&] { event.set(); });
  std::vector<green::Waitable> done = green::wait({event, event});
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[0] == event);
  EXPECT_TRUE(done[1] == event);
  setter.join();
}

TEST(Wait, WithNoObjectsRunsTheHubUntilEveryGreenletFinished) {
  green::Event step;
  int finished = 0;
  green::spawn([&] {
    step.wait();
    ++finished;
  });
  green::spawn([&] {
    step.set();
    ++finished;
  });
  green::wait();
  EXPECT_EQ(finished, 2);
}

TEST(IWait, YieldsEachObjectAsItBecomesReady) {
  green::Event a;
  green::Event b;
  green::AsyncResult<void> c;
  std::vector<std::string> seen;
  green::Event b_may_go;
  auto driver = green::spawn([&] {
    c.set();
    b_may_go.wait();
    b.set();
    a.set();
  });
  for (const green::Waitable& done : green::iwait({a, b, c})) {
    if (done == a) seen.push_back("a");
    if (done == b) seen.push_back("b");
    if (done == c) {
      seen.push_back("c");
      b_may_go.set();
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"c", "b", "a"}));
  driver.join();
}

TEST(IWait, CountLimitsWhatIsYielded) {
  green::Event a;
  green::Event b;
  a.set();
  b.set();
  std::vector<green::Waitable> seen;
  for (const green::Waitable& done : green::iwait({a, b}, std::nullopt, 1)) seen.push_back(done);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen[0] == a);
  auto none = green::iwait({a, b}, std::nullopt, 0);
  EXPECT_FALSE(none.next());
}

TEST(IWait, StopsWhenTheTimeoutPassesAndStaysStopped) {
  green::Event ready;
  green::Event never;
  ready.set();
  green::IWait waiting = green::iwait({never, ready}, 0.03s);
  std::optional<green::Waitable> first = waiting.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == ready);
  EXPECT_FALSE(waiting.next());
  never.set();
  EXPECT_FALSE(waiting.next());
}

TEST(IWait, AReadinessBeforeTheFirstAdvanceIsYielded) {
  green::Event event;
  green::IWait waiting = green::iwait({event}, 0s);
  auto setter = green::spawn([&] { event.set(); });
  setter.join();
  std::optional<green::Waitable> first = waiting.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == event);
}

TEST(IWait, AReadinessBetweenTwoAdvancesDoesNotWakeAnotherPark) {
  green::Event a;
  green::Event b;
  green::Hub& hub = green::Hub::current();
  auto* main = green::greenlet::getcurrent().get();
  green::Event driver_may_go;
  auto driver = green::spawn([&] {
    a.set();
    driver_may_go.wait();
    b.set();  // the main greenlet is parked below, not in next()
    hub.wake(*main, 42);
  });
  green::IWait waiting = green::iwait({a, b});
  std::optional<green::Waitable> first = waiting.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == a);
  driver_may_go.set();
  std::any woken = hub.park("test");
  ASSERT_TRUE(woken.has_value());
  EXPECT_EQ(std::any_cast<int>(woken), 42);
  std::optional<green::Waitable> second = waiting.next();
  ASSERT_TRUE(second);
  EXPECT_TRUE(*second == b);
  EXPECT_FALSE(waiting.next());
  driver.join();
}

TEST(IWait, AMovedRangeGoesOnAndADroppedOneUnlinks) {
  green::Event a;
  green::Event b;
  auto setter = green::spawn([&] {
    a.set();
    b.set();
  });
  green::IWait original = green::iwait({a, b});
  green::IWait moved = std::move(original);
  EXPECT_FALSE(original.next());  // NOLINT(bugprone-use-after-move): a moved-from range is empty
  EXPECT_TRUE(moved.next());
  { green::IWait dropped = std::move(moved); }
  setter.join();
  green::Event c;
  { green::IWait never_advanced = green::iwait({c}); }
  c.set();
  EXPECT_TRUE(c.is_set());
}

TEST(IWait, ARangeMovedWhileAdvancedGoesOnInItsNewPlace) {
  green::Event a;
  green::Event b;
  std::vector<green::IWait> ranges;
  ranges.push_back(green::iwait({a, b}));
  auto mover = green::spawn([&] {
    ranges.reserve(ranges.capacity() + 8);  // reallocates: the parked range moves
    a.set();
    b.set();
  });
  std::vector<green::Waitable> seen;
  for (auto it = ranges[0].begin(); it != std::default_sentinel; ++it) seen.push_back(*it);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[0] == a);
  EXPECT_TRUE(seen[1] == b);
  EXPECT_FALSE(ranges[0].next());
  mover.join();
}

TEST(IWait, ARangeDestroyedWhileAdvancedThrowsOutOfTheAdvance) {
  green::Event a;
  std::optional<green::IWait> range(green::iwait({a}));
  auto dropper = green::spawn([&] { range.reset(); });
  green::IWait& advanced = *range;
  EXPECT_THROW(advanced.next(), green::error);
  a.set();  // unlinked: nothing reaches the destroyed range
  dropper.join();
  EXPECT_TRUE(dropper.successful());
}

TEST(Wait, AZeroTimeoutLetsTheHubRunOnceFirst) {
  auto spawned = green::spawn([] {});
  const std::vector<green::Waitable> done = green::wait({spawned}, 0s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == spawned);
  auto next = green::spawn([] {});
  green::IWait waiting = green::iwait({next}, 0s);
  std::optional<green::Waitable> first = waiting.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == next);
}

TEST(IWait, ANaNTimeoutIsRefusedWhenTheRangeIsMade) {
  green::Event never;
  EXPECT_THROW(green::iwait({never}, std::chrono::duration<double>(std::nan(""))), weft::ValueError);
}

TEST(WaitRead, GeventsNamesForTheFdWaits) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  green::wait_write(fds[1]);
  green::wait_write(fds[1], 1s);
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  green::wait_read(fds[0]);
  green::wait_read(fds[0], 1s);
  green::close_fd(fds[0]);
  green::close_fd(fds[1]);
}

TEST(WaitRead, TimesOutAsWaitReadable) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_THROW(green::wait_read(fds[0], 10ms), weft::net::TimeoutError);
  green::close_fd(fds[0]);
  green::close_fd(fds[1]);
}

}  // namespace
