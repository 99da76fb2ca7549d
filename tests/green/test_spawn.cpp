// gevent's Greenlet: spawn and the seeds' run orders, sleep, get and value,
// kill, link callbacks, joinall and killall, failures on stderr, many
// greenlets.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;

namespace {

// Seed 000: gevent.joinall([spawn(fun1), spawn(fun2), spawn(fun3)]) with
// sleeps of 2, 3 and 0 seconds (scaled down here).
TEST(Spawn, Seed000JoinallPrintsInTheSeedsOrder) {
  std::vector<std::string> printed;
  auto fun1 = [&] {
    printed.push_back("runing 1 ...");
    green::sleep(0.2s);
    printed.push_back("running 2 ...");
  };
  auto fun2 = [&] {
    printed.push_back("running 3 ...");
    green::sleep(0.3s);
    printed.push_back("running 4");
  };
  auto fun3 = [&] {
    printed.push_back("running 5 ...");
    green::sleep(0s);
    printed.push_back("end?");
  };
  green::joinall({green::spawn(fun1), green::spawn(fun2), green::spawn(fun3)});
  EXPECT_EQ(printed, (std::vector<std::string>{"runing 1 ...", "running 3 ...", "running 5 ...", "end?",
                                               "running 2 ...", "running 4"}));
}

// Seed 003: foo and bar hand over to each other with sleep(0).
TEST(Spawn, Seed003FooBarInterleave) {
  std::vector<std::string> printed;
  auto foo = [&] {
    printed.push_back("Running in foo");
    green::sleep();
    printed.push_back("Explicit context switch to foo again");
  };
  auto bar = [&] {
    printed.push_back("Explicit context to bar");
    green::sleep();
    printed.push_back("Implicit context switch back to bar");
  };
  green::joinall({green::spawn(foo), green::spawn(bar)});
  EXPECT_EQ(printed,
            (std::vector<std::string>{"Running in foo", "Explicit context to bar",
                                      "Explicit context switch to foo again", "Implicit context switch back to bar"}));
}

TEST(Spawn, SpawnedGreenletRunsOnlyWhenTheCallerBlocks) {
  bool ran = false;
  auto g = green::spawn([&] { ran = true; });
  EXPECT_FALSE(ran);
  EXPECT_TRUE(g.started());
  EXPECT_FALSE(g.ready());
  green::sleep();
  EXPECT_TRUE(ran);
  EXPECT_TRUE(g.ready());
  EXPECT_TRUE(g.successful());
  EXPECT_TRUE(g.dead());
}

TEST(Spawn, TenGreenletsSleepingTogetherTakeOneSleep) {
  std::vector<green::Greenlet<int>> all;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) {
    all.push_back(green::spawn([i] {
      green::sleep(0.2s);
      return i;
    }));
  }
  EXPECT_EQ(green::joinall(all).size(), 10u);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 200ms);
  EXPECT_LT(took, 1500ms);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(all[i].value(), i);
}

TEST(Spawn, GetReturnsTheValueAndPassesArguments) {
  auto g = green::spawn([](int a, std::string b) { return b + std::to_string(a); }, 7, std::string("x"));
  EXPECT_EQ(g.get(), "x7");
  EXPECT_EQ(g.value(), "x7");
  auto moved = green::spawn([](std::unique_ptr<int> p) { return *p * 2; }, std::make_unique<int>(21));
  EXPECT_EQ(moved.get(), 42);
}

TEST(Spawn, GetRethrowsTheTypedException) {
  auto g = green::spawn([]() -> int { throw weft::KeyError("missing"); });
  testing::internal::CaptureStderr();
  EXPECT_THROW(g.get(), weft::KeyError);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(g.ready());
  EXPECT_FALSE(g.successful());
  ASSERT_TRUE(g.exception());
  EXPECT_THROW(g.value(), weft::ValueError);
  EXPECT_NE(err.find(g.name() + " failed with weft::KeyError"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST(Spawn, JoinNeverThrowsTheGreenletsException) {
  auto g = green::spawn([] { throw std::runtime_error("boom"); });
  testing::internal::CaptureStderr();
  EXPECT_TRUE(g.join());
  testing::internal::GetCapturedStderr();
  EXPECT_FALSE(g.successful());
}

TEST(Spawn, GetWithoutBlockingOrWithATimeoutThrowsTimeout) {
  auto g = green::spawn([] {
    green::sleep(10s);
    return 1;
  });
  EXPECT_THROW(g.get(false), green::Timeout);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(g.get(true, 0.05s), green::Timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(g.join(0.01s));
  g.kill();
}

TEST(Spawn, TryGetGivesNothingWhereGetWouldTimeOut) {
  green::Event release;
  auto g = green::spawn([&] {
    release.wait();
    return 7;
  });
  EXPECT_EQ(g.try_get(), std::nullopt);
  EXPECT_EQ(g.try_get(0.02s), std::nullopt);
  release.set();
  EXPECT_EQ(g.try_get(5s), 7);  // parks until it returns
  EXPECT_EQ(g.try_get(), 7);
}

TEST(Spawn, TryGetRethrowsTheOutcomeOfAFailedOrKilledGreenlet) {
  auto failed = green::spawn([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(failed.try_get(5s), std::runtime_error);
  EXPECT_THROW(failed.try_get(), std::runtime_error);
  green::Greenlet<int> killed([] { return 1; });
  killed.kill();
  EXPECT_THROW(killed.try_get(), green::GreenletExit);
}

TEST(Spawn, TryGetOfAVoidGreenletSaysWhetherItIsDone) {
  green::Event release;
  auto g = green::spawn([&] { release.wait(); });
  EXPECT_FALSE(g.try_get());
  EXPECT_FALSE(g.try_get(0.01s));
  release.set();
  EXPECT_TRUE(g.try_get(5s));
  auto failed = green::spawn([] { throw std::logic_error("void failure"); });
  EXPECT_THROW(failed.try_get(5s), std::logic_error);
}

TEST(Spawn, ConstructedGreenletWaitsForStart) {
  bool ran = false;
  green::Greenlet<> g([&] { ran = true; });
  EXPECT_FALSE(g.started());
  green::sleep();
  EXPECT_FALSE(ran);
  g.start();
  g.start();  // once only
  g.join();
  EXPECT_TRUE(ran);
}

// A greenlet joining another holds it alive while it waits, though every handle to it goes
// meanwhile: it is destroyed only once the join has returned (here at its timeout, the
// other never having started).
TEST(Spawn, AJoinKeepsTheGreenletAliveWhenItsLastHandleGoes) {
  auto token = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = token;
  std::optional<green::Greenlet<>> pending(std::in_place, [token] {});
  token.reset();
  bool joined = true;
  bool alive_after_drop = false;
  auto waiter = green::spawn([&] {
    green::AnyGreenlet& unstarted = *pending;
    joined = unstarted.join(0.05s);
  });
  auto dropper = green::spawn([&] {
    pending.reset();
    alive_after_drop = !watch.expired();
  });
  green::joinall({waiter, dropper});
  EXPECT_FALSE(joined);
  EXPECT_TRUE(alive_after_drop);
  EXPECT_TRUE(watch.expired());
}

TEST(Spawn, SpawnLaterStartsAfterTheDelay) {
  const auto start = std::chrono::steady_clock::now();
  auto g = green::spawn_later(0.1s, [&] { return std::chrono::steady_clock::now() - start; });
  EXPECT_GE(g.get(), 100ms);
}

TEST(Spawn, KillBeforeStartMeansItNeverRuns) {
  bool ran = false;
  auto g = green::spawn([&] { ran = true; });
  g.kill();
  EXPECT_TRUE(g.ready());
  EXPECT_TRUE(g.successful());
  EXPECT_FALSE(g.exception());
  green::sleep();
  EXPECT_FALSE(ran);
  EXPECT_THROW(g.get(), green::GreenletExit);

  auto later = green::spawn_later(0.01s, [&] { ran = true; });
  later.kill();
  green::sleep(0.05s);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(later.ready());
}

TEST(Spawn, KillRaisesGreenletExitAtTheParkPoint) {
  bool cleaned_up = false;
  bool after = false;
  auto g = green::spawn([&] {
    struct Cleanup {
      bool& flag;
      ~Cleanup() { flag = true; }
    } cleanup{cleaned_up};
    green::sleep(10s);
    after = true;
  });
  green::sleep();
  const auto start = std::chrono::steady_clock::now();
  g.kill();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(g.ready());
  EXPECT_TRUE(g.successful());
  EXPECT_TRUE(cleaned_up);
  EXPECT_FALSE(after);
}

TEST(Spawn, KillWithAnExceptionFailsTheGreenlet) {
  auto g = green::spawn([] { green::sleep(10s); });
  green::sleep();
  testing::internal::CaptureStderr();
  g.kill(std::make_exception_ptr(weft::ValueError("stop")));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(g.ready());
  EXPECT_FALSE(g.successful());
  EXPECT_THROW(std::rethrow_exception(g.exception()), weft::ValueError);
  EXPECT_NE(err.find("failed with weft::ValueError: stop"), std::string::npos) << err;
}

TEST(Spawn, KillThatIsCaughtWaitsOnlyForTheTimeout) {
  auto stubborn = green::spawn([] {
    for (;;) {
      try {
        green::sleep(10s);
      } catch (const green::GreenletExit&) {
      }
    }
  });
  green::sleep();
  const auto start = std::chrono::steady_clock::now();
  stubborn.kill(nullptr, true, 0.05s);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  EXPECT_FALSE(stubborn.ready());
  stubborn.kill(std::make_exception_ptr(std::runtime_error("really")), false);
  testing::internal::CaptureStderr();
  EXPECT_TRUE(stubborn.join(5s));
  testing::internal::GetCapturedStderr();
}

TEST(Spawn, KillingTheCurrentGreenletRaisesAtOnce) {
  bool after = false;
  auto g = green::spawn([&] {
    green::getcurrent_task().kill();
    after = true;
  });
  g.join();
  EXPECT_FALSE(after);
  EXPECT_TRUE(g.successful());
}

TEST(Spawn, LinkCallbacksRunInTheHubOnceReady) {
  std::vector<std::string> calls;
  auto ok = green::spawn([] { return 1; });
  auto bad = green::spawn([]() -> int { throw std::runtime_error("bad"); });
  ok.link([&](green::AnyGreenlet g) {
    EXPECT_EQ(g, ok);
    EXPECT_TRUE(green::getcurrent() == green::Hub::current().hub_greenlet());
    calls.push_back("ok link");
  });
  ok.link_value([&](green::AnyGreenlet) { calls.push_back("ok value"); });
  ok.link_exception([&](green::AnyGreenlet) { calls.push_back("ok exception"); });
  bad.link_value([&](green::AnyGreenlet) { calls.push_back("bad value"); });
  bad.link_exception([&](green::AnyGreenlet) { calls.push_back("bad exception"); });
  testing::internal::CaptureStderr();
  green::joinall({ok, bad});
  green::sleep();
  testing::internal::GetCapturedStderr();
  EXPECT_EQ(calls, (std::vector<std::string>{"ok link", "ok value", "bad exception"}));
  calls.clear();
  ok.link([&](green::AnyGreenlet) { calls.push_back("late link"); });
  EXPECT_TRUE(calls.empty());
  green::sleep();
  EXPECT_EQ(calls, (std::vector<std::string>{"late link"}));
}

TEST(Spawn, JoinallWithATimeoutReturnsTheFinishedOnes) {
  auto quick = green::spawn([] {});
  auto slow = green::spawn([] { green::sleep(10s); });
  const auto done = green::joinall({slow, quick}, 0.05s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], quick);
  green::killall({slow});
  EXPECT_TRUE(slow.ready());
}

TEST(Spawn, JoinallWithAZeroTimeoutLetsJustSpawnedGreenletsRun) {
  auto spawned = green::spawn([] { return 1; });
  const auto done = green::joinall({spawned}, 0s);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0], spawned);
}

TEST(Spawn, JoinallRaiseErrorRethrowsTheFirstFailure) {
  auto slow = green::spawn([] { green::sleep(10s); });
  auto failing = green::spawn([] {
    green::sleep(0.01s);
    throw weft::IndexError("first");
  });
  testing::internal::CaptureStderr();
  EXPECT_THROW(green::joinall({slow, failing}, std::nullopt, true), weft::IndexError);
  testing::internal::GetCapturedStderr();
  EXPECT_FALSE(slow.ready());
  slow.kill();
}

TEST(Spawn, KillallKillsEveryone) {
  std::vector<green::Greenlet<>> all;
  for (int i = 0; i < 5; ++i) all.push_back(green::spawn([] { green::sleep(10s); }));
  green::sleep();
  green::killall(all);
  for (auto& g : all) EXPECT_TRUE(g.ready());
}

// Killing the calling greenlet raises at once, so killall from a listed one kills it last.
TEST(Spawn, KillallFromAListedGreenletKillsTheRestAndItselfLast) {
  std::vector<green::AnyGreenlet> all;
  all.push_back(green::spawn([] { green::sleep(10s); }));
  all.push_back(green::spawn([&all] {
    green::sleep();
    green::killall(all);
  }));
  all.push_back(green::spawn([] { green::sleep(10s); }));
  EXPECT_EQ(green::joinall(all, 5s).size(), all.size());
  for (auto& g : all) EXPECT_TRUE(g.successful());  // GreenletExit
}

TEST(Spawn, ForgottenGreenletStillRunsToTheEnd) {
  bool finished = false;
  green::spawn([&] {
    green::sleep(0.01s);
    finished = true;
  });
  green::sleep(0.05s);
  EXPECT_TRUE(finished);
}

TEST(Spawn, GetcurrentTaskIsTheRunningGreenlet) {
  EXPECT_TRUE(green::getcurrent_task().empty());
  green::AnyGreenlet seen;
  auto g = green::spawn([&] {
    seen = green::getcurrent_task();
    return seen.raw() == green::getcurrent();
  });
  EXPECT_TRUE(g.get());
  EXPECT_EQ(seen, g);
}

// A greenlet that finishes resumes its joiner only after the greenlets
// scheduled before the joiner was woken (FIFO, as the hub runs them).
TEST(Spawn, AJoinerResumesAfterTheGreenletsQueuedBeforeIt) {
  std::vector<std::string> order;
  auto first = green::spawn([&] { order.push_back("first"); });
  auto second = green::spawn([&] { order.push_back("second"); });
  first.join();
  order.push_back("joined");
  second.join();
  EXPECT_EQ(order, (std::vector<std::string>{"first", "second", "joined"}));
}

// The same when the greenlet joined yields on the way: the greenlets queued
// meanwhile keep their turns.
TEST(Spawn, YieldingGreenletsKeepTheirTurnsAroundAJoin) {
  std::vector<std::string> order;
  auto task = [&order](std::string name) {
    order.push_back(name + "1");
    green::sleep(0s);
    order.push_back(name + "2");
  };
  auto a = green::spawn(task, std::string("a"));
  auto b = green::spawn(task, std::string("b"));
  a.join();
  order.push_back("joined");
  b.join();
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "b1", "a2", "b2", "joined"}));
}

TEST(Spawn, TenThousandGreenletsSpawnAndJoin) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer maps over a megabyte of trace per live fiber.
  constexpr int kCount = 1000;
#else
  constexpr int kCount = 10000;
#endif
  long sum = 0;
  std::vector<green::Greenlet<int>> all;
  all.reserve(kCount);
  for (int i = 0; i < kCount; ++i) {
    all.push_back(green::spawn([i] {
      green::sleep();
      return i;
    }));
  }
  EXPECT_EQ(green::joinall(all).size(), static_cast<std::size_t>(kCount));
  for (auto& g : all) sum += g.value();
  EXPECT_EQ(sum, static_cast<long>(kCount) * (kCount - 1) / 2);
}

}  // namespace
