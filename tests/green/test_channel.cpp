// green::Channel: the unbuffered hand-off between putters and getters, the
// non-waiting and timed forms, FIFO order on both sides, hand-offs racing a
// timeout, waiters interrupted by kill or Timeout, LoopExit and shutdown.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "weft/green/channel.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"
#include "weft/queue/errors.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TEST(Channel, PutParksUntilAGetterTakesTheItem) {
  green::Channel<std::string> channel;
  EXPECT_TRUE(channel.full());
  EXPECT_TRUE(channel.empty());
  auto putter = green::spawn([&] { channel.put("hello"); });
  green::sleep();
  EXPECT_FALSE(putter.ready());
  EXPECT_EQ(channel.putting(), 1u);
  EXPECT_EQ(channel.balance(), 1);
  EXPECT_EQ(channel.qsize(), 0u);  // the item stays with its putter
  EXPECT_EQ(channel.get(), "hello");
  EXPECT_EQ(channel.putting(), 0u);
  EXPECT_TRUE(putter.join(5s));
  EXPECT_TRUE(putter.successful());
}

TEST(Channel, GetParksUntilAPutterComes) {
  green::Channel<int> channel;
  auto getter = green::spawn([&] { return channel.get(); });
  green::sleep();
  EXPECT_EQ(channel.getting(), 1u);
  EXPECT_EQ(channel.balance(), -1);
  channel.put(7);  // into the parked getter's hands: does not park
  EXPECT_EQ(channel.getting(), 0u);
  EXPECT_FALSE(getter.ready());
  EXPECT_EQ(getter.get(), 7);
}

TEST(Channel, NonWaitingFormsNeedTheOtherSideParked) {
  green::Channel<std::unique_ptr<int>> channel;
  EXPECT_THROW(channel.put_nowait(std::make_unique<int>(1)), weft::Full);
  EXPECT_THROW(channel.put(std::make_unique<int>(1), false), weft::Full);
  EXPECT_THROW(channel.get_nowait(), weft::Empty);
  EXPECT_THROW(channel.get(false), weft::Empty);
  auto item = std::make_unique<int>(2);
  EXPECT_FALSE(channel.try_put(std::move(item)));
  ASSERT_NE(item, nullptr);  // untouched when it fails
  EXPECT_FALSE(channel.try_get().has_value());

  auto getter = green::spawn([&] { return *channel.get(); });
  green::sleep();
  EXPECT_TRUE(channel.try_put(std::move(item)));
  EXPECT_EQ(item, nullptr);
  EXPECT_EQ(getter.get(), 2);

  auto putter = green::spawn([&] { channel.put(std::make_unique<int>(3)); });
  green::sleep();
  auto got = channel.try_get();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 3);
  putter.join();
  EXPECT_EQ(channel.putting() + channel.getting(), 0u);
}

TEST(Channel, TimedCallsThrowFullAndEmpty) {
  green::Channel<int> channel;
  auto start = Clock::now();
  EXPECT_THROW(channel.put(1, true, 30ms), weft::Full);
  EXPECT_GE(Clock::now() - start, 25ms);
  start = Clock::now();
  EXPECT_THROW(channel.get(true, 30ms), weft::Empty);
  EXPECT_GE(Clock::now() - start, 25ms);
  EXPECT_THROW(channel.get(true, 0s), weft::Empty);
  std::string kept = "kept";
  green::Channel<std::string> strings;
  EXPECT_FALSE(strings.try_put(std::move(kept), 10ms));
  EXPECT_EQ(kept, "kept");
  EXPECT_FALSE(strings.try_get(10ms).has_value());
  EXPECT_EQ(channel.putting() + channel.getting() + strings.putting() + strings.getting(), 0u);
}

TEST(Channel, TimedCallsSucceedWhenTheOtherSideComesInTime) {
  green::Channel<int> channel;
  auto getter = green::spawn([&] { return channel.try_get(5s); });
  green::sleep();
  channel.put(4, true, 5s);
  EXPECT_EQ(getter.get(), 4);
  auto putter = green::spawn([&] { return channel.try_put(5, 5s); });
  EXPECT_EQ(channel.get(true, 5s), 5);
  EXPECT_TRUE(putter.get());
}

TEST(Channel, AHandOffAsTheWaiterTimesOutStillCounts) {
  // The waiter's deadline passes while the hub is not running (this thread
  // spins): its timer has not fired yet when the other side comes, so the
  // hand-off wins and the waiter returns successfully.
  auto spin_past = [](std::chrono::milliseconds span) {
    const auto until = Clock::now() + span;
    while (Clock::now() < until) {
    }
  };
  green::Channel<int> channel;
  auto putter = green::spawn([&] { return channel.try_put(1, 20ms); });
  green::sleep();
  spin_past(30ms);
  EXPECT_EQ(channel.get_nowait(), 1);
  EXPECT_TRUE(putter.get());
  auto getter = green::spawn([&] { return channel.try_get(20ms); });
  green::sleep();
  spin_past(30ms);
  channel.put_nowait(2);
  EXPECT_EQ(getter.get(), 2);
}

TEST(Channel, GettersReceiveItemsInTheOrderTheyWaited) {
  green::Channel<int> channel;
  std::vector<std::pair<int, int>> received;
  std::vector<green::AnyGreenlet> getters;
  for (int i = 0; i < 4; ++i) {
    getters.push_back(green::spawn([&, i] { received.emplace_back(i, channel.get()); }));
  }
  green::sleep();
  for (int i = 0; i < 4; ++i) channel.put(i * 10);
  // Every item is in a parked getter's hands: a newcomer finds none.
  EXPECT_THROW(channel.get_nowait(), weft::Empty);
  green::joinall(getters);
  EXPECT_EQ(received, (std::vector<std::pair<int, int>>{{0, 0}, {1, 10}, {2, 20}, {3, 30}}));
}

TEST(Channel, PuttersAreTakenFromInTheOrderTheyWaited) {
  green::Channel<int> channel;
  std::vector<int> finished;
  std::vector<green::AnyGreenlet> putters;
  for (int i = 0; i < 4; ++i) {
    putters.push_back(green::spawn([&, i] {
      channel.put(i);
      finished.push_back(i);
    }));
  }
  green::sleep();
  EXPECT_EQ(channel.putting(), 4u);
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) {
    got.push_back(channel.get());
    EXPECT_EQ(channel.putting(), 3u - i);  // exactly the one taken from goes on
  }
  green::joinall(putters);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(finished, (std::vector<int>{0, 1, 2, 3}));
}

TEST(Channel, PingPongBetweenTwoGreenlets) {
  green::Channel<int> requests;
  green::Channel<int> replies;
  auto server = green::spawn([&] {
    for (;;) {
      const int n = requests.get();
      if (n < 0) return;
      replies.put(n * 2);
    }
  });
  long long sum = 0;
  for (int i = 0; i < 1000; ++i) {
    requests.put(i);
    sum += replies.get();
  }
  requests.put(-1);
  server.join();
  EXPECT_EQ(sum, 999LL * 1000);
}

TEST(Channel, AKilledPutterTakesItsItemAway) {
  green::Channel<int> channel;
  auto doomed = green::spawn([&] { channel.put(1); });
  auto next = green::spawn([&] { channel.put(2); });
  green::sleep();
  doomed.kill();
  EXPECT_EQ(channel.putting(), 1u);
  EXPECT_EQ(channel.get(), 2);
  next.join();
  EXPECT_THROW(channel.get_nowait(), weft::Empty);
}

TEST(Channel, AKilledGetterPassesItsItemToTheNextGetter) {
  green::Channel<int> channel;
  auto doomed = green::spawn([&] { return channel.get(); });
  auto next = green::spawn([&] { return channel.get(); });
  green::sleep();
  channel.put(1);               // into `doomed`'s hands...
  doomed.kill(nullptr, false);  // ...which dies before it takes it
  EXPECT_EQ(next.get(), 1);
  doomed.join();
  EXPECT_EQ(channel.qsize(), 0u);
}

TEST(Channel, AKilledLastGetterLeavesItsItemForTheNextGet) {
  green::Channel<int> channel;
  auto doomed = green::spawn([&] { return channel.get(); });
  green::sleep();
  channel.put(1);
  doomed.kill();
  EXPECT_EQ(channel.qsize(), 1u);
  EXPECT_FALSE(channel.empty());
  EXPECT_EQ(channel.get_nowait(), 1);
  EXPECT_TRUE(channel.empty());
}

TEST(Channel, ATimeoutThrownIntoAWaiterLeavesTheChannelConsistent) {
  green::Channel<int> channel;
  {
    green::Timeout limit(10ms);
    EXPECT_THROW(channel.get(), green::Timeout);
  }
  {
    green::Timeout limit(10ms);
    EXPECT_THROW(channel.put(1), green::Timeout);
  }
  EXPECT_EQ(channel.putting() + channel.getting(), 0u);
  auto putter = green::spawn([&] { channel.put(2); });
  EXPECT_EQ(channel.get(), 2);
  putter.join();
}

TEST(Channel, LoopExitWhenNoPutterCanCome) {
  green::Channel<int> channel;
  try {
    channel.get();
    FAIL() << "get() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("Channel.get"), std::string::npos) << exit.what();
  }
  EXPECT_EQ(channel.getting(), 0u);
}

TEST(Channel, LoopExitWhenNoGetterCanCome) {
  green::Channel<int> channel;
  try {
    channel.put(1);
    FAIL() << "put() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("Channel.put"), std::string::npos) << exit.what();
  }
  EXPECT_EQ(channel.putting(), 0u);
}

TEST(ChannelShutdown, PutAndGetThrowShutDown) {
  green::Channel<int> channel;
  channel.shutdown();
  EXPECT_TRUE(channel.is_shutdown());
  EXPECT_THROW(channel.put(1), weft::ShutDown);
  EXPECT_THROW(channel.try_put(1), weft::ShutDown);
  EXPECT_THROW(channel.get(), weft::ShutDown);
  EXPECT_THROW(channel.get_nowait(), weft::ShutDown);
  EXPECT_THROW(channel.try_get(), weft::ShutDown);
  EXPECT_THROW(channel.try_get(10ms), weft::ShutDown);
}

TEST(ChannelShutdown, WakesParkedPuttersAndGetters) {
  green::Channel<int> to_get;
  green::Channel<int> to_put;
  auto getter = green::spawn([&] { return to_get.get(); });
  auto putter = green::spawn([&] { to_put.put(1); });
  green::sleep();
  to_get.shutdown();
  to_put.shutdown();
  EXPECT_THROW(getter.get(), weft::ShutDown);
  EXPECT_THROW(putter.get(), weft::ShutDown);
  EXPECT_EQ(to_get.getting() + to_put.putting(), 0u);
}

TEST(ChannelShutdown, AKeptItemIsDrainedUnlessImmediate) {
  for (const bool immediate : {false, true}) {
    green::Channel<int> channel;
    auto doomed = green::spawn([&] { return channel.get(); });
    green::sleep();
    channel.put(1);
    doomed.kill();
    ASSERT_EQ(channel.qsize(), 1u);
    channel.shutdown(immediate);
    if (!immediate) {
      EXPECT_EQ(channel.get(), 1);
    }
    EXPECT_THROW(channel.get(), weft::ShutDown);
  }
}

}  // namespace
