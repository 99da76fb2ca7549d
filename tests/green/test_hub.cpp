// The hub: parking and waking, run order, LoopExit, Hub::join, dump(), hubs
// on several threads, wake_threadsafe.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <any>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "io_support.hpp"
#include "weft/green/greenlet.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;
using green::test::wait_child;

namespace {

TEST(Hub, ParkedGreenletResumesWithTheWakeValue) {
  green::Hub& hub = green::Hub::current();
  std::any got;
  auto waiter = green::spawn([&] { got = hub.park("a value"); });
  auto waker = green::spawn([&] { EXPECT_TRUE(hub.wake(*waiter.raw().get(), std::any(42))); });
  green::joinall({waiter, waker});
  EXPECT_EQ(std::any_cast<int>(got), 42);
}

TEST(Hub, FirstWakeWinsAndWakingAnUnparkedGreenletDoesNothing) {
  green::Hub& hub = green::Hub::current();
  std::any got;
  auto waiter = green::spawn([&] { got = hub.park("a value"); });
  auto waker = green::spawn([&] {
    EXPECT_TRUE(hub.wake(*waiter.raw().get(), std::any(1)));
    EXPECT_FALSE(hub.wake(*waiter.raw().get(), std::any(2)));
    EXPECT_FALSE(hub.wake_throw(*waiter.raw().get(), std::make_exception_ptr(std::runtime_error("late"))));
  });
  green::joinall({waiter, waker});
  EXPECT_EQ(std::any_cast<int>(got), 1);
  EXPECT_FALSE(hub.wake(*green::getcurrent().get()));
}

TEST(Hub, WakeThrowRaisesAtThePark) {
  green::Hub& hub = green::Hub::current();
  std::string caught;
  auto waiter = green::spawn([&] {
    try {
      hub.park("an error");
    } catch (const std::runtime_error& e) {
      caught = e.what();
    }
  });
  auto waker = green::spawn(
      [&] { hub.wake_throw(*waiter.raw().get(), std::make_exception_ptr(std::runtime_error("woken badly"))); });
  green::joinall({waiter, waker});
  EXPECT_EQ(caught, "woken badly");
}

TEST(Hub, ParkFromTheMainGreenletRunsTheHub) {
  green::Hub& hub = green::Hub::current();
  green::greenlet main = green::getcurrent();
  auto waker = green::spawn([&] { hub.wake(*main.get(), std::any(std::string("from a greenlet"))); });
  EXPECT_EQ(std::any_cast<std::string>(hub.park("main's value")), "from a greenlet");
  EXPECT_TRUE(waker.join());
}

TEST(Hub, ParkUntilReturnsNothingAtTheDeadline) {
  green::Hub& hub = green::Hub::current();
  const auto start = green::Hub::Clock::now();
  EXPECT_FALSE(hub.park_until("nothing", start + 50ms).has_value());
  EXPECT_GE(green::Hub::Clock::now() - start, 50ms);
}

TEST(Hub, ParkUntilReturnsAnEarlyWake) {
  green::Hub& hub = green::Hub::current();
  green::greenlet main = green::getcurrent();
  auto waker = green::spawn([&] { hub.wake(*main.get(), std::any(7)); });
  const auto got = hub.park_until("an early value", green::Hub::Clock::now() + 10s);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::any_cast<int>(*got), 7);
  waker.join();
}

TEST(Hub, ScheduledGreenletsRunInFifoOrder) {
  green::Hub& hub = green::Hub::current();
  std::vector<int> order;
  std::vector<green::greenlet> raw;
  for (int i = 0; i < 5; ++i) {
    raw.emplace_back([&order, i] { order.push_back(i); }, hub.hub_greenlet());
    hub.schedule(*raw.back().get());
  }
  hub.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

// As in gevent, where whatever will wake a greenlet holds it: a raw greenlet parked on the hub
// whose last handle goes on another thread runs on when woken.
TEST(Hub, AParkedGreenletWhoseLastHandleGoesOnAnotherThreadRunsOn) {
  green::Hub& hub = green::Hub::current();
  std::atomic<bool> woke{false};
  auto raw = std::make_unique<green::greenlet>(
      [&woke] {
        green::sleep(0.02s);
        woke = true;
      },
      hub.hub_greenlet());
  hub.schedule(*raw->get());
  green::sleep();  // it runs up to its sleep
  std::thread([&raw] { raw.reset(); }).join();
  hub.join();
  EXPECT_TRUE(woke);
}

// sleep(0) yields to the hub's loop: callbacks and due timers run within a
// couple of yields even when no other greenlet is ready.
TEST(Hub, SleepZeroLetsLoopCallbacksAndDueTimersRun) {
  green::Hub& hub = green::Hub::current();
  constexpr int kEnoughYields = 100;
  bool called = false;
  hub.loop().call_soon([&] { called = true; });
  for (int i = 0; i < kEnoughYields && !called; ++i) green::sleep(0s);
  EXPECT_TRUE(called);

  bool fired = false;
  auto timer = hub.loop().call_later(0ms, [&] { fired = true; });
  for (int i = 0; i < kEnoughYields && !fired; ++i) green::sleep(0s);
  EXPECT_TRUE(fired);

  auto worker = green::spawn([&] {
    called = false;
    hub.loop().call_soon([&] { called = true; });
    for (int i = 0; i < kEnoughYields && !called; ++i) green::sleep(0s);
  });
  worker.join();
  EXPECT_TRUE(called);
}

TEST(Hub, ParkingFromTheHubIsAnError) {
  green::Hub& hub = green::Hub::current();
  bool refused = false;
  auto g = green::spawn([] {});
  g.link([&](green::AnyGreenlet) {
    try {
      green::Hub::current().park("inside the hub");
    } catch (const green::error&) {
      refused = true;
    }
  });
  g.join();
  green::sleep();
  EXPECT_TRUE(refused);
  (void)hub;
}

TEST(Hub, LoopExitNamesWhatEveryParkedGreenletWaitsOn) {
  auto forever = green::spawn([] { green::Hub::current().park("forever"); });
  std::string message;
  try {
    forever.join();
    ADD_FAILURE() << "join returned";
  } catch (const green::LoopExit& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(forever.name() + " waits on forever"), std::string::npos) << message;
  EXPECT_NE(message.find("main waits on Greenlet.join"), std::string::npos) << message;
  forever.kill();
  EXPECT_TRUE(forever.ready());
  EXPECT_TRUE(forever.successful());
}

TEST(Hub, LoopExitWhenMainParksWithNothingToWakeIt) {
  EXPECT_THROW(green::Hub::current().park("nothing at all"), green::LoopExit);
  // The hub carries on afterwards.
  auto g = green::spawn([] { return 5; });
  EXPECT_EQ(g.get(), 5);
}

TEST(Hub, JoinRunsUntilEverythingIsDone) {
  int finished = 0;
  for (int i = 0; i < 3; ++i) {
    green::spawn([&finished, i] {
      green::sleep(std::chrono::milliseconds(10 * i));
      ++finished;
    });
  }
  green::Hub::current().join();
  EXPECT_EQ(finished, 3);
}

TEST(Hub, JoinRaisesLoopExitIfAGreenletStaysParked) {
  auto forever = green::spawn([] { green::Hub::current().park("forever"); });
  EXPECT_THROW(green::Hub::current().join(), green::LoopExit);
  forever.kill();
}

// join() is a blocking point like any other: gevent's `with Timeout(t): hub.join()` raises at t.
TEST(Hub, ATimeoutInterruptsJoin) {
  auto worker = green::spawn([] { green::sleep(5s); });
  const auto start = std::chrono::steady_clock::now();
  bool raised = false;
  try {
    green::Timeout limit(0.02s);
    green::Hub::current().join();
  } catch (const green::Timeout&) {
    raised = true;
  }
  EXPECT_TRUE(raised);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_FALSE(worker.ready());
  worker.kill();
}

// One that expired while the greenlet was busy raises when it calls join(), its next blocking point.
TEST(Hub, ATimeoutExpiredBeforeJoinRaisesThere) {
  auto worker = green::spawn([] { green::sleep(5s); });
  green::sleep();  // the worker parks; main resumes last of that batch
  bool raised = false;
  try {
    green::Timeout limit(0s);
    green::sleep();  // the loop turn fires it before main resumes from this yield
    green::Hub::current().join();
  } catch (const green::Timeout&) {
    raised = true;
  }
  EXPECT_TRUE(raised);
  EXPECT_FALSE(worker.ready());
  worker.kill();
}

TEST(Hub, DumpListsLiveGreenletsWithWhatTheyWaitOn) {
  auto sleeper = green::spawn([] { green::sleep(10s); });
  auto parked = green::spawn([] { green::Hub::current().park("a test's wake"); });
  auto later = green::spawn_later(10s, [] {});
  green::sleep();
  const std::string text = green::dump();
  EXPECT_NE(text.find("main running\n"), std::string::npos) << text;
  EXPECT_NE(text.find(sleeper.name() + " parked on sleep\n"), std::string::npos) << text;
  EXPECT_NE(text.find(parked.name() + " parked on a test's wake\n"), std::string::npos) << text;
  EXPECT_NE(text.find(later.name() + " not started\n"), std::string::npos) << text;
  auto fresh = green::spawn([] {});
  const auto lines = green::Hub::current().dump();
  bool found = false;
  for (const auto& line : lines) found |= line.name == fresh.name() && line.state == "scheduled";
  EXPECT_TRUE(found);
  green::killall({sleeper, parked, later, fresh});
  EXPECT_EQ(green::dump(), "main running\n");
}

TEST(Hub, HubsOnTwoThreadsRunSideBySide) {
  auto work = [](int id, std::vector<int>& out) {
    std::vector<green::AnyGreenlet> all;
    for (int i = 0; i < 3; ++i) {
      all.push_back(green::spawn([&out, id, i] {
        green::sleep(20ms);
        out.push_back(id * 10 + i);
      }));
    }
    green::joinall(all);
    EXPECT_NE(&green::Hub::current(), nullptr);
  };
  std::vector<int> a, b;
  green::Hub* hub_a = nullptr;
  green::Hub* hub_b = nullptr;
  std::thread ta([&] {
    work(1, a);
    hub_a = &green::Hub::current();
  });
  std::thread tb([&] {
    work(2, b);
    hub_b = &green::Hub::current();
  });
  ta.join();
  tb.join();
  EXPECT_EQ(a, (std::vector<int>{10, 11, 12}));
  EXPECT_EQ(b, (std::vector<int>{20, 21, 22}));
  EXPECT_NE(hub_a, hub_b);
}

TEST(Hub, WakeThreadsafeFromAnotherThread) {
  green::Hub& hub = green::Hub::current();
  std::any got;
  std::atomic<bool> parked{false};
  auto waiter = green::spawn([&] {
    green::Hub::ExternalWaitGuard expecting(hub);
    parked = true;
    got = hub.park("another thread");
  });
  // The waiter has parked once the main greenlet runs again.
  green::sleep();
  ASSERT_TRUE(parked);
  std::thread other([&] { hub.wake_threadsafe(waiter.raw(), std::any(std::string("across threads"))); });
  EXPECT_TRUE(waiter.join(10s));
  other.join();
  EXPECT_EQ(std::any_cast<std::string>(got), "across threads");
}

TEST(Hub, ThreadExitUnwindsItsSuspendedGreenlets) {
  std::atomic<int> unwound{0};
  std::thread t([&] {
    struct Count {
      std::atomic<int>& n;
      ~Count() { ++n; }
    };
    green::spawn([&] {
      Count c{unwound};
      green::sleep(100s);
    });
    green::spawn([&] {
      Count c{unwound};
      green::Hub::current().park("forever");
    });
    green::spawn([&] { Count c{unwound}; });  // never started
    green::sleep();
  });
  t.join();
  EXPECT_EQ(unwound, 3);
}

TEST(Hub, ThreadExitDropsGreenletsThatNeverStarted) {
  bool ran = false;
  std::thread t([&] {
    auto g = green::spawn([&] { ran = true; });
    auto later = green::spawn_later(10s, [&] { ran = true; });
    EXPECT_FALSE(g.ready());
  });
  t.join();
  EXPECT_FALSE(ran);
}

// Runs `scenario` in a forked child, which exits with what it returns (8 if it throws); returns
// the child's wait status (-1: killed after 30 s).
template <class F>
int in_child(F scenario) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 8;
    try {
      code = scenario();
    } catch (...) {
    }
    ::_exit(code);
  }
  return pid < 0 ? -1 : wait_child(pid, 30s);
}

// gevent raises GreenletExit in a greenlet once; one that catches it and waits again is left
// suspended (leaked, and reported) when its thread ends, not made to spin.
TEST(Hub, ThreadExitRaisesGreenletExitOnceInAGreenletThatSwallowsIt) {
  const int status = in_child([] {
    std::atomic<int> caught{0};
    std::thread t([&] {
      green::spawn([&] {
        for (;;) {
          try {
            green::sleep(10ms);
          } catch (const std::exception&) {
            ++caught;
          }
        }
      });
      green::sleep();
    });
    t.join();
    return caught == 1 ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// A destructor that waits (an RAII guard killing its child greenlet) while its greenlet is
// unwound at thread exit leaves that greenlet suspended instead of raising during the unwinding
// (std::terminate); the child is still unwound.
TEST(Hub, ADestructorThatWaitsWhileUnwoundAtThreadExitLeavesItsGreenletSuspended) {
  const int status = in_child([] {
    std::atomic<bool> child_unwound{false};
    bool child_started = false;
    std::thread t([&] {
      struct Scoped {
        green::Greenlet<> g;
        ~Scoped() { g.kill(); }
      };
      struct Flag {
        std::atomic<bool>& set;
        ~Flag() { set = true; }
      };
      green::spawn([&] {
        Scoped child{green::spawn([&] {
          Flag flag{child_unwound};
          child_started = true;
          green::sleep(100s);
        })};
        green::sleep(100s);
      });
      while (!child_started) green::sleep();
    });
    t.join();
    return child_unwound ? 0 : 1;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

#if defined(__SANITIZE_ADDRESS__)
// What std::exit() leaves on the stacks it does not unwind is no leak of the library's.
bool leaks_unchecked = false;
extern "C" int __lsan_is_turned_off() { return leaks_unchecked ? 1 : 0; }
void uncheck_leaks() { leaks_unchecked = true; }
#else
void uncheck_leaks() {}
#endif

// std::exit() in a spawned greenlet ends the process with its status; the main greenlet, parked
// in join, is not resumed (it used to be unwound by GreenletExit, inside exit()).
TEST(Hub, ExitInASpawnedGreenletEndsTheProcessWithItsStatus) {
  const int status = in_child([] {
    auto other = green::spawn([] { green::sleep(100s); });
    auto quitter = green::spawn([] {
      green::sleep(10ms);
      uncheck_leaks();
      std::exit(3);
    });
    quitter.join();
    return 9;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

}  // namespace
