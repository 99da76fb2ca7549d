// green::Group and green::Pool: tracking, join, kill, the Pool's bound on
// concurrency, map's order, imap streaming and imap_unordered.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

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
