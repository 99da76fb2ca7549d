// green::Group and green::Pool: tracking, join, kill, the Pool's bound on
// concurrency, map's order, imap streaming, imap_unordered and imap's
// maxsize back-pressure, apply/apply_async/apply_cb, try_add.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "weft/green/async_result.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/pool.hpp"
#include "weft/green/sleep.hpp"
#include "weft/queue/errors.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;

namespace {

static_assert(std::ranges::input_range<green::IMap<int>>);

TEST(Group, TracksGreenletsUntilTheyFinish) {
  green::Group group;
  EXPECT_TRUE(group.empty());
  green::Event go;
  auto first = group.spawn([&] { go.wait(); });
  auto second = group.spawn([&](int x) { return x * 2; }, 21);
  EXPECT_EQ(group.size(), 2u);
  EXPECT_TRUE(group.contains(first));
  EXPECT_TRUE(group.contains(second));
  EXPECT_EQ(second.get(), 42);
  green::sleep();  // the finished greenlet's link runs
  EXPECT_FALSE(group.contains(second));
  EXPECT_EQ(group.size(), 1u);
  EXPECT_FALSE(group.join(10ms));
  go.set();
  EXPECT_TRUE(group.join());
  EXPECT_TRUE(group.empty());
}

TEST(Group, AddStartAndDiscard) {
  green::Group group;
  green::Greenlet<int> g([] { return 1; });
  group.add(g);
  group.add(g);  // again: nothing
  EXPECT_EQ(group.size(), 1u);
  EXPECT_FALSE(g.started());
  group.discard(g);
  EXPECT_FALSE(group.contains(g));
  EXPECT_TRUE(group.join());
  green::Greenlet<int> h([] { return 2; });
  group.start(h);
  EXPECT_TRUE(h.started());
  EXPECT_EQ(group.greenlets(), std::vector<green::AnyGreenlet>{h});
  EXPECT_TRUE(group.join());
  EXPECT_EQ(h.get(), 2);
  g.kill();
}

// gevent: `None in group` is False and group.discard(None) does nothing.
TEST(Group, AnEmptyHandleIsNoMemberAndDiscardingItDoesNothing) {
  green::Group group;
  auto member = group.spawn([] {});
  const green::AnyGreenlet none;
  EXPECT_FALSE(group.contains(none));
  group.discard(none);
  EXPECT_EQ(group.size(), 1u);
  EXPECT_TRUE(group.join());
  EXPECT_TRUE(member.successful());
}

TEST(Group, JoinRaiseErrorRethrowsAFailure) {
  green::Group group;
  group.spawn([] { throw std::domain_error("worker failed"); });
  group.spawn([] {});
  EXPECT_THROW(group.join(std::nullopt, true), std::domain_error);
  EXPECT_TRUE(group.empty());
  group.spawn([] { throw std::domain_error("ignored"); });
  EXPECT_TRUE(group.join());
}

TEST(Group, KillKillsEveryMember) {
  green::Group group;
  green::Event never;
  std::vector<green::AnyGreenlet> members;
  for (int i = 0; i < 5; ++i) members.push_back(group.spawn([&] { never.wait(); }));
  green::sleep();
  group.kill();
  EXPECT_TRUE(group.empty());
  for (auto& g : members) {
    EXPECT_TRUE(g.ready());
    EXPECT_TRUE(g.successful());  // GreenletExit
  }
}

// gevent kills every member, the caller too: the caller's kill raises last.
TEST(Group, KillFromAMemberKillsEveryMemberAndItselfLast) {
  green::Group group;
  green::Event never;
  std::vector<green::AnyGreenlet> members;
  for (int i = 0; i < 2; ++i) members.push_back(group.spawn([&] { never.wait(); }));
  members.push_back(group.spawn([&] {
    green::sleep();
    group.kill();
  }));
  for (int i = 0; i < 2; ++i) members.push_back(group.spawn([&] { never.wait(); }));
  EXPECT_TRUE(group.join(5s));
  for (auto& g : members) {
    EXPECT_TRUE(g.ready());
    EXPECT_TRUE(g.successful());  // GreenletExit
  }
}

TEST(Group, KillWithAnExceptionAndWithoutBlocking) {
  green::Group group;
  green::Event never;
  auto member = group.spawn([&] { never.wait(); });
  green::sleep();
  group.kill(std::make_exception_ptr(std::runtime_error("stop")), false);
  EXPECT_FALSE(member.ready());
  EXPECT_TRUE(group.join());
  EXPECT_THROW(member.get(), std::runtime_error);
}

TEST(Group, KillOne) {
  green::Group group;
  green::Event never;
  auto doomed = group.spawn([&] { never.wait(); });
  auto other = group.spawn([&] { never.wait(); });
  green::sleep();
  group.killone(doomed);
  EXPECT_TRUE(doomed.ready());
  EXPECT_FALSE(other.ready());
  group.kill();
}

TEST(Group, MapReturnsResultsInInputOrder) {
  green::Group group;
  // Later items finish first: each sleeps less than the one before.
  auto slow_square = [](int x) {
    green::sleep(std::chrono::milliseconds(2 * (10 - x)));
    return x * x;
  };
  const std::vector<int> squares = group.map(slow_square, std::views::iota(0, 10));
  EXPECT_EQ(squares, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49, 64, 81}));
  EXPECT_TRUE(group.join());
}

TEST(Group, MapRethrowsTheFirstFailureInInputOrder) {
  green::Group group;
  const std::vector<int> items{1, 2, 3, 4};
  auto check = [](int x) {
    if (x == 2) throw std::invalid_argument("two");
    if (x == 4) throw std::out_of_range("four");
    return x;
  };
  EXPECT_THROW(group.map(check, items), std::invalid_argument);
  group.join();
}

TEST(Group, ImapStreamsResultsInOrderAsTheyBecomeReady) {
  green::Group group;
  std::vector<std::unique_ptr<green::Event>> gates;
  for (int i = 0; i < 4; ++i) gates.push_back(std::make_unique<green::Event>());
  auto gated = [&](int i) {
    gates[i]->wait();
    return i * 10;
  };
  auto results = group.imap(gated, std::vector<int>{0, 1, 2, 3});
  // Open the gates from the last; result 0 must still come first. Item 1
  // is let go only once result 0 has arrived: imap must yield results
  // while later items still run.
  gates[3]->set();
  gates[2]->set();
  gates[0]->set();
  std::vector<int> seen;
  for (int value : results) {
    seen.push_back(value);
    if (value == 0) gates[1]->set();
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 10, 20, 30}));
}

TEST(Group, ImapUnorderedYieldsInTheOrderTheyFinish) {
  green::Group group;
  std::vector<std::unique_ptr<green::Event>> gates;
  for (int i = 0; i < 3; ++i) gates.push_back(std::make_unique<green::Event>());
  std::vector<int> order{2, 0, 1};
  auto feeder = green::spawn([&] {
    for (int i : order) {
      green::sleep();
      gates[i]->set();
    }
  });
  std::vector<int> seen;
  for (int value : group.imap_unordered([&](int i) { gates[i]->wait(); return i; }, std::views::iota(0, 3))) {
    seen.push_back(value);
  }
  EXPECT_EQ(seen, order);
  feeder.join();
}

TEST(Group, ImapRethrowsAFailedItemAndGoesOn) {
  green::Group group;
  auto results = group.imap(
      [](int x) {
        if (x == 1) throw std::invalid_argument("one");
        return x;
      },
      std::views::iota(0, 3));
  auto it = results.begin();
  EXPECT_EQ(*it, 0);
  ++it;
  EXPECT_THROW(*it, std::invalid_argument);
  ++it;
  EXPECT_EQ(*it, 2);
  ++it;
  EXPECT_TRUE(it == results.end());
}

TEST(Group, ImapRethrowsGreenletExitForAKilledItem) {
  green::Group group;
  green::Event never;
  auto results = group.imap(
      [&](int x) {
        never.wait();
        return x;
      },
      std::vector<int>{0, 1});
  while (group.size() < 2) green::sleep();  // the feeder has spawned both
  group.kill();
  int killed = 0;
  for (auto it = results.begin(); it != results.end(); ++it) {
    EXPECT_THROW(*it, green::GreenletExit);
    ++killed;
  }
  EXPECT_EQ(killed, 2);
}

TEST(Group, ImapOfAnEmptyRangeEndsAtOnce) {
  green::Group group;
  auto results = group.imap([](int x) { return x; }, std::vector<int>{});
  EXPECT_TRUE(results.begin() == results.end());
}

TEST(Group, ADestroyedImapStopsFeeding) {
  green::Pool pool(1);
  int started = 0;
  {
    auto results = pool.imap(
        [&](int x) {
          ++started;
          return x;
        },
        std::views::iota(0, 100));
    EXPECT_EQ(*results.begin(), 0);
  }
  pool.join();
  green::sleep();
  EXPECT_LT(started, 100);
}

// Runs an imap over 0..49 with `maxsize`, taking each result and then
// letting every ready greenlet run; returns the most items started ahead of
// the iterator at any point.
template <class MakeImap>
int most_started_ahead(MakeImap make_imap) {
  int started = 0;
  int taken = 0;
  int most_ahead = 0;
  long long sum = 0;
  auto record = [&](int x) {
    ++started;
    return x;
  };
  for (int value : make_imap(record)) {
    ++taken;
    sum += value;
    for (int i = 0; i < 5; ++i) green::sleep();
    most_ahead = std::max(most_ahead, started - taken);
  }
  EXPECT_EQ(taken, 50);
  EXPECT_EQ(sum, 49 * 50 / 2);
  return most_ahead;
}

TEST(Group, ImapMaxsizeBoundsTheResultsWaiting) {
  green::Group group;
  const std::size_t maxsize = 3;
  EXPECT_EQ(most_started_ahead([&](auto f) { return group.imap(f, std::views::iota(0, 50), maxsize); }), 3);
  EXPECT_EQ(most_started_ahead([&](auto f) { return group.imap_unordered(f, std::views::iota(0, 50), maxsize); }),
            3);
  // Without it the feeder runs ahead through the whole input.
  EXPECT_EQ(most_started_ahead([&](auto f) { return group.imap(f, std::views::iota(0, 50)); }), 49);
  EXPECT_TRUE(group.join());
}

TEST(Group, ImapMaxsizeWaitsForASlowFirstItemWithoutDeadlock) {
  green::Group group;
  green::Event first_may_finish;
  int finished_ahead = 0;
  auto work = [&](int x) {
    if (x == 0) {
      first_may_finish.wait();
    } else {
      ++finished_ahead;
    }
    return x;
  };
  auto results = group.imap(work, std::views::iota(0, 6), 2);
  auto opener = green::spawn([&] {
    for (int i = 0; i < 5; ++i) green::sleep();
    first_may_finish.set();
  });
  std::vector<int> seen;
  for (int value : results) {
    if (value == 0) {
      EXPECT_EQ(finished_ahead, 1);  // only item 1 could start beside item 0
    }
    seen.push_back(value);
  }
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  opener.join();
}

TEST(Group, ApplyRunsFInAMemberAndParksForItsValue) {
  green::Group group;
  bool ran_in_member = false;
  const int product = group.apply(
      [&](int a, int b) {
        ran_in_member = group.contains(green::getcurrent_task());
        return a * b;
      },
      6, 7);
  EXPECT_EQ(product, 42);
  EXPECT_TRUE(ran_in_member);
  EXPECT_THROW(group.apply([] { throw std::invalid_argument("apply"); }), std::invalid_argument);
  group.apply([] {});
}

TEST(Pool, ApplyFromAMemberRunsInline) {
  green::Pool pool(1);
  auto outer = pool.spawn([&] {
    const green::AnyGreenlet self = green::getcurrent_task();
    // A full pool: anything but an inline call would park forever.
    return pool.apply([&](int x) { return green::getcurrent_task() == self ? x : -1; }, 5);
  });
  EXPECT_EQ(outer.get(), 5);
}

TEST(Pool, ApplyParksForRoom) {
  green::Pool pool(1);
  green::Event release;
  auto holder = pool.spawn([&] { release.wait(); });
  auto caller = green::spawn([&] { return pool.apply([] { return 9; }); });
  green::sleep();
  EXPECT_FALSE(caller.ready());
  release.set();
  EXPECT_EQ(caller.get(), 9);
  holder.join();
}

TEST(Pool, ApplyAsyncStartsAMemberWithoutParking) {
  green::Pool pool(2);
  auto g = pool.apply_async([](int x) { return x + 1; }, 1);
  EXPECT_TRUE(g.started());
  EXPECT_TRUE(pool.contains(g));
  EXPECT_EQ(g.get(), 2);
}

TEST(Pool, ApplyAsyncOnAFullPoolReturnsAtOnceAndRunsFInAMember) {
  green::Pool pool(1);
  green::Event release;
  auto holder = pool.spawn([&] { release.wait(); });
  bool ran_in_member = false;
  auto g = pool.apply_async(
      [&](std::string s) {
        ran_in_member = pool.contains(green::getcurrent_task());
        return s + "!";
      },
      std::string("late"));
  EXPECT_TRUE(g.started());
  EXPECT_FALSE(pool.contains(g));  // it waits outside for room
  green::sleep();
  EXPECT_FALSE(g.ready());
  release.set();
  EXPECT_EQ(g.get(), "late!");
  EXPECT_TRUE(ran_in_member);
  auto failing = pool.apply_async([] { throw std::domain_error("inside"); });
  EXPECT_THROW(failing.get(), std::domain_error);
  holder.join();
}

TEST(Pool, ApplyAsyncCallbackGetsTheValueOnlyOnSuccess) {
  green::Pool pool(1);
  std::vector<int> values;
  auto record = [&](const int& value) { values.push_back(value); };
  auto ok = pool.apply_async([](int a, int b) { return a - b; }, std::tuple{10, 3}, record);
  EXPECT_TRUE(pool.contains(ok));
  EXPECT_EQ(ok.get(), 7);
  green::Event release;
  auto holder = pool.spawn([&] { release.wait(); });
  // The pool is full: these wait for room outside it.
  auto queued = pool.apply_async([](int x) { return x; }, std::tuple{8}, record);
  auto failed = pool.apply_async([](int) -> int { throw std::domain_error("no value"); }, std::tuple{1}, record);
  EXPECT_FALSE(pool.contains(queued));
  EXPECT_FALSE(pool.contains(failed));
  release.set();
  EXPECT_EQ(queued.get(), 8);
  EXPECT_THROW(failed.get(), std::domain_error);
  EXPECT_TRUE(pool.join());
  green::Event never;
  auto killed = pool.apply_async(
      [&](int x) {
        never.wait();
        return x;
      },
      std::tuple{9}, record);
  EXPECT_TRUE(pool.contains(killed));
  green::sleep();
  killed.kill();
  int void_calls = 0;
  auto done = pool.apply_async([] {}, std::tuple{}, [&] { ++void_calls; });
  done.join();
  EXPECT_TRUE(pool.join());
  green::sleep();  // the last links run
  EXPECT_EQ(values, (std::vector<int>{7, 8}));
  EXPECT_EQ(void_calls, 1);
}

TEST(Pool, ApplyCbReturnsTheValueAndRunsTheCallbackInAGreenlet) {
  green::Pool pool(1);
  green::AsyncResult<int> reported;
  const int value = pool.apply_cb([](int x) { return x * x; }, std::tuple{4}, [&](const int& result) {
    green::sleep();  // a callback of apply_cb may block
    reported.set(result);
  });
  EXPECT_EQ(value, 16);
  EXPECT_EQ(reported.get(), 16);
  green::Event called;
  pool.apply_cb([] {}, std::tuple{}, [&] { called.set(); });
  EXPECT_TRUE(called.wait(5s));
}

TEST(Pool, TryAddReturnsFalseInsteadOfThrowing) {
  green::Pool pool(1);
  green::Event release;
  green::Greenlet<void> first([&] { release.wait(); });
  EXPECT_TRUE(pool.try_add(first));
  EXPECT_TRUE(pool.try_add(first));  // already a member
  green::Greenlet<int> second([] { return 2; });
  EXPECT_FALSE(pool.try_add(second));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.try_add(second, 30ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 25ms);
  EXPECT_FALSE(pool.contains(second));
  first.start();
  auto releaser = green::spawn([&] { release.set(); });
  EXPECT_TRUE(pool.try_add(second, 5s));  // parks until `first` is done
  EXPECT_TRUE(pool.contains(second));
  second.start();
  EXPECT_EQ(second.get(), 2);
  releaser.join();
}

TEST(Pool, NeverRunsMoreThanItsSize) {
  green::Pool pool(3);
  EXPECT_EQ(pool.capacity(), 3u);
  int running = 0;
  int most = 0;
  for (int i = 0; i < 20; ++i) {
    pool.spawn([&] {
      most = std::max(most, ++running);
      green::sleep(1ms);
      --running;
    });
    EXPECT_LE(pool.size(), 3u);
  }
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(most, 3);
}

TEST(Pool, MapAndImapRespectTheBound) {
  green::Pool pool(2);
  int running = 0;
  int most = 0;
  auto work = [&](int x) {
    most = std::max(most, ++running);
    green::sleep();
    --running;
    return x + 1;
  };
  EXPECT_EQ(pool.map(work, std::views::iota(0, 10)), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(most, 2);
  most = 0;
  int sum = 0;
  for (int value : pool.imap(work, std::views::iota(0, 10))) sum += value;
  EXPECT_EQ(sum, 55);
  EXPECT_EQ(most, 2);
}

TEST(Pool, FreeCountFullAndWaitAvailable) {
  green::Pool pool(2);
  green::Event release;
  EXPECT_EQ(pool.free_count(), 2u);
  EXPECT_FALSE(pool.full());
  pool.spawn([&] { release.wait(); });
  EXPECT_EQ(pool.free_count(), 1u);
  pool.spawn([&] { release.wait(); });
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_TRUE(pool.full());
  EXPECT_EQ(pool.wait_available(10ms), 0u);
  green::Greenlet<void> extra([] {});
  EXPECT_THROW(pool.add(extra, false), green::PoolFull);
  EXPECT_THROW(pool.add(extra, true, 10ms), weft::Full);
  EXPECT_FALSE(pool.contains(extra));
  release.set();
  EXPECT_GE(pool.wait_available(), 1u);
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(pool.free_count(), 2u);
  extra.kill();
}

// gevent returns 1 to every wait_available() that the slot of a finished member reaches.
TEST(Pool, EveryWaitAvailableSeesTheSlotThatFreedUp) {
  green::Pool pool(1);
  green::Event release;
  pool.spawn([&] { release.wait(); });
  auto first = green::spawn([&] { return pool.wait_available(); });
  auto second = green::spawn([&] { return pool.wait_available(); });
  green::sleep();
  release.set();
  EXPECT_EQ(first.get(), 1u);
  EXPECT_EQ(second.get(), 1u);
  EXPECT_EQ(pool.free_count(), 1u);
}

TEST(Pool, SpawnersWaitForRoomInOrder) {
  green::Pool pool(1);
  green::Event release;
  pool.spawn([&] { release.wait(); });
  std::vector<int> order;
  std::vector<green::AnyGreenlet> spawners;
  for (int i = 0; i < 4; ++i) {
    spawners.push_back(green::spawn([&, i] { pool.spawn([&, i] { order.push_back(i); }); }));
  }
  green::sleep();
  release.set();
  green::joinall(spawners);
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Pool, AKilledSpawnerTakesNoSlot) {
  green::Pool pool(1);
  green::Event release;
  pool.spawn([&] { release.wait(); });
  auto doomed = green::spawn([&] { pool.spawn([] {}); });
  green::sleep();
  doomed.kill();
  release.set();
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(pool.free_count(), 1u);
  EXPECT_EQ(pool.wait_available(), 1u);
}

TEST(Pool, MapFromAMemberRunsInline) {
  green::Pool pool(1);
  auto outer = pool.spawn([&] { return pool.map([](int x) { return x * 3; }, std::vector<int>{1, 2}); });
  EXPECT_EQ(outer.get(), (std::vector<int>{3, 6}));
}

}  // namespace
