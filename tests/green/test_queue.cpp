// green::Queue, JoinableQueue, LifoQueue and PriorityQueue: every call,
// timeouts, FIFO hand-off to parked getters and putters, many producers and
// consumers, 3.13 shutdown, and waiters interrupted by kill or Timeout.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/queue.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"
#include "weft/queue/errors.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TEST(Queue, FirstInFirstOut) {
  green::Queue<int> queue;
  EXPECT_TRUE(queue.empty());
  for (int i = 0; i < 5; ++i) queue.put(i);
  EXPECT_EQ(queue.qsize(), 5u);
  EXPECT_FALSE(queue.full());
  EXPECT_EQ(queue.maxsize(), 0u);
  EXPECT_EQ(queue.peek(), 0);
  EXPECT_EQ(queue.peek_nowait(), 0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(queue.get(), i);
  EXPECT_TRUE(queue.empty());
}

TEST(Queue, NonBlockingAndTimedCallsThrowFullAndEmpty) {
  green::Queue<int> queue(2);
  queue.put(1);
  queue.put_nowait(2);
  EXPECT_TRUE(queue.full());
  EXPECT_THROW(queue.put(3, false), weft::Full);
  EXPECT_THROW(queue.put_nowait(3), weft::Full);
  const auto start = Clock::now();
  EXPECT_THROW(queue.put(3, true, 30ms), weft::Full);
  EXPECT_GE(Clock::now() - start, 25ms);
  EXPECT_EQ(queue.get_nowait(), 1);
  EXPECT_EQ(queue.get(false), 2);
  EXPECT_THROW(queue.get(false), weft::Empty);
  EXPECT_THROW(queue.get_nowait(), weft::Empty);
  EXPECT_THROW(queue.get(true, 20ms), weft::Empty);
  EXPECT_THROW(queue.peek(false), weft::Empty);
  EXPECT_THROW(queue.peek(true, 10ms), weft::Empty);
  EXPECT_THROW(queue.get(true, 0s), weft::Empty);
}

TEST(Queue, TryFormsReturnInsteadOfThrowing) {
  green::Queue<std::unique_ptr<int>> queue(1);
  auto item = std::make_unique<int>(1);
  EXPECT_TRUE(queue.try_put(std::move(item)));
  auto second = std::make_unique<int>(2);
  EXPECT_FALSE(queue.try_put(std::move(second)));
  ASSERT_NE(second, nullptr);  // untouched when it fails
  EXPECT_FALSE(queue.try_put(std::move(second), 10ms));
  ASSERT_NE(second, nullptr);
  auto got = queue.try_get();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 1);
  EXPECT_FALSE(queue.try_get().has_value());
  EXPECT_FALSE(queue.try_get(10ms).has_value());
}

TEST(Queue, GetParksUntilAPut) {
  green::Queue<std::string> queue;
  auto producer = green::spawn([&] { queue.put("late"); });
  EXPECT_EQ(queue.get(), "late");
  producer.join();
}

TEST(Queue, PeekParksUntilAPutAndLeavesTheItem) {
  green::Queue<int> queue;
  auto peeker = green::spawn([&] { return queue.peek(); });
  green::sleep();
  queue.put(4);
  EXPECT_EQ(peeker.get(), 4);
  EXPECT_EQ(queue.qsize(), 1u);
}

TEST(Queue, PutParksWhileFull) {
  green::Queue<int> queue(1);
  queue.put(1);
  auto producer = green::spawn([&] { queue.put(2); });
  green::sleep();
  EXPECT_FALSE(producer.ready());
  EXPECT_EQ(queue.get(), 1);
  EXPECT_EQ(queue.get(), 2);
  producer.join();
}

TEST(Queue, GettersReceiveItemsInTheOrderTheyWaited) {
  green::Queue<int> queue;
  std::vector<std::pair<int, int>> received;
  std::vector<green::AnyGreenlet> getters;
  for (int i = 0; i < 5; ++i) {
    getters.push_back(green::spawn([&, i] { received.emplace_back(i, queue.get()); }));
  }
  green::sleep();
  for (int i = 0; i < 5; ++i) queue.put(i * 10);
  // Every item is reserved for a parked getter: a newcomer finds none.
  EXPECT_THROW(queue.get_nowait(), weft::Empty);
  green::joinall(getters);
  EXPECT_EQ(received, (std::vector<std::pair<int, int>>{{0, 0}, {1, 10}, {2, 20}, {3, 30}, {4, 40}}));
}

TEST(Queue, PuttersGetRoomInTheOrderTheyWaited) {
  green::Queue<int> queue(1);
  queue.put(-1);
  std::vector<green::AnyGreenlet> putters;
  for (int i = 0; i < 4; ++i) putters.push_back(green::spawn([&, i] { queue.put(i); }));
  green::sleep();
  std::vector<int> got;
  for (int i = 0; i < 5; ++i) got.push_back(queue.get());
  green::joinall(putters);
  EXPECT_EQ(got, (std::vector<int>{-1, 0, 1, 2, 3}));
}

TEST(Queue, ManyProducersAndConsumers) {
  constexpr int kProducers = 10;
  constexpr int kConsumers = 7;
  constexpr int kItems = 500;
  green::Queue<int> queue(8);
  std::vector<green::AnyGreenlet> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.push_back(green::spawn([&, p] {
      for (int i = 0; i < kItems; ++i) {
        queue.put(p * kItems + i);
        if (i % 7 == 0) green::sleep();
      }
    }));
  }
  std::vector<green::Greenlet<long long>> consumers;
  std::vector<int> last_seen(kProducers, -1);
  bool in_order = true;
  for (int c = 0; c < kConsumers; ++c) {
    consumers.push_back(green::spawn([&] {
      long long sum = 0;
      for (;;) {
        const int item = queue.get();
        if (item < 0) return sum;
        // Each producer's items come out in the order it put them.
        in_order = in_order && item % kItems > last_seen[item / kItems];
        last_seen[item / kItems] = item % kItems;
        sum += item;
      }
    }));
  }
  green::joinall(producers);
  for (int c = 0; c < kConsumers; ++c) queue.put(-1);
  long long total = 0;
  for (auto& consumer : consumers) total += consumer.get();
  const long long n = kProducers * kItems;
  EXPECT_EQ(total, n * (n - 1) / 2);
  EXPECT_TRUE(in_order);
  EXPECT_TRUE(queue.empty());
}

TEST(Queue, AKilledGetterPassesItsItemOn) {
  green::Queue<int> queue;
  auto doomed = green::spawn([&] { return queue.get(); });
  auto next = green::spawn([&] { return queue.get(); });
  green::sleep();
  queue.put(1);                 // reserved for `doomed`...
  doomed.kill(nullptr, false);  // ...which dies before it takes it
  EXPECT_EQ(next.get(), 1);
  doomed.join();
  EXPECT_TRUE(queue.empty());
}

TEST(Queue, AKilledLastGetterLeavesItsItemInTheQueue) {
  green::Queue<int> queue;
  auto doomed = green::spawn([&] { return queue.get(); });
  green::sleep();
  queue.put(1);
  doomed.kill();
  EXPECT_EQ(queue.get_nowait(), 1);
}

TEST(Queue, AKilledPutterPassesItsSlotOn) {
  green::Queue<int> queue(1);
  queue.put(0);
  auto doomed = green::spawn([&] { queue.put(1); });
  auto next = green::spawn([&] { queue.put(2); });
  green::sleep();
  EXPECT_EQ(queue.get(), 0);    // the slot is reserved for `doomed`...
  doomed.kill(nullptr, false);  // ...which dies before it uses it
  next.join();
  EXPECT_EQ(queue.get_nowait(), 2);
  EXPECT_TRUE(queue.empty());
}

TEST(Queue, ATimeoutThrownIntoAGetterTakesNoItem) {
  green::Queue<int> queue;
  auto getter = green::spawn([&] {
    green::Timeout limit(20ms);
    try {
      return queue.get();
    } catch (const green::Timeout& expired) {
      return expired == limit ? -1 : -2;
    }
  });
  EXPECT_EQ(getter.get(), -1);
  queue.put(3);
  EXPECT_EQ(queue.get_nowait(), 3);
}

TEST(Queue, ATimeoutThrownIntoAPeekerOrAPutterLeavesTheQueueConsistent) {
  green::Queue<int> queue(1);
  {
    green::Timeout limit(10ms);
    EXPECT_THROW(queue.peek(), green::Timeout);
  }
  queue.put(1);
  {
    green::Timeout limit(10ms);
    EXPECT_THROW(queue.put(2), green::Timeout);
  }
  EXPECT_EQ(queue.get(), 1);
  queue.put(3);
  EXPECT_EQ(queue.get(), 3);
}

TEST(Queue, LoopExitWhenNothingCanPut) {
  green::Queue<int> queue;
  try {
    queue.get();
    FAIL() << "get() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("Queue.get"), std::string::npos) << exit.what();
  }
}

TEST(QueueShutdown, PutThrowsAndGetDrainsThenThrows) {
  green::Queue<int> queue;
  queue.put(1);
  queue.put(2);
  queue.shutdown();
  EXPECT_TRUE(queue.is_shutdown());
  EXPECT_THROW(queue.put(3), weft::ShutDown);
  EXPECT_THROW(queue.try_put(3), weft::ShutDown);
  EXPECT_EQ(queue.get(), 1);
  EXPECT_EQ(queue.peek(), 2);
  EXPECT_EQ(queue.get(), 2);
  EXPECT_THROW(queue.get(), weft::ShutDown);
  EXPECT_THROW(queue.get(false), weft::ShutDown);
  EXPECT_THROW(queue.try_get(), weft::ShutDown);
  EXPECT_THROW(queue.peek(), weft::ShutDown);
}

TEST(QueueShutdown, WakesParkedGettersAndPutters) {
  green::Queue<int> empty;
  green::Queue<int> full(1);
  full.put(0);
  auto getter = green::spawn([&] { return empty.get(); });
  auto peeker = green::spawn([&] { return empty.peek(); });
  auto putter = green::spawn([&] { full.put(1); });
  green::sleep();
  empty.shutdown();
  full.shutdown();
  EXPECT_THROW(getter.get(), weft::ShutDown);
  EXPECT_THROW(peeker.get(), weft::ShutDown);
  EXPECT_THROW(putter.get(), weft::ShutDown);
  EXPECT_EQ(full.get(), 0);  // what was queued can still be taken
}

TEST(QueueShutdown, ImmediateDiscardsTheItems) {
  green::JoinableQueue<int> queue;
  queue.put(1);
  queue.put(2);
  EXPECT_EQ(queue.unfinished_tasks(), 2u);
  queue.shutdown(true);
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.unfinished_tasks(), 0u);
  EXPECT_TRUE(queue.join());
  EXPECT_THROW(queue.get(), weft::ShutDown);
}

TEST(QueueShutdown, ImmediateFailsAGetterWhoseItemIsDiscarded) {
  green::Queue<int> queue;
  auto getter = green::spawn([&] { return queue.get(); });
  green::sleep();
  queue.put(1);  // reserved for the getter, which has not run yet
  queue.shutdown(true);
  EXPECT_THROW(getter.get(), weft::ShutDown);
}

TEST(JoinableQueue, JoinWaitsForEveryTaskDone) {
  green::JoinableQueue<int> queue;
  EXPECT_TRUE(queue.join());
  EXPECT_THROW(queue.task_done(), weft::ValueError);
  int processed = 0;
  auto worker = green::spawn([&] {
    for (int i = 0; i < 3; ++i) {
      queue.get();
      green::sleep();
      ++processed;
      queue.task_done();
    }
  });
  for (int i = 0; i < 3; ++i) queue.put(i);
  EXPECT_FALSE(queue.join(0s));
  EXPECT_TRUE(queue.join());
  EXPECT_EQ(processed, 3);
  EXPECT_EQ(queue.unfinished_tasks(), 0u);
  worker.join();
}

TEST(JoinableQueue, AKilledJoinerLeavesTheOthersWaiting) {
  green::JoinableQueue<int> queue;
  queue.put(1);
  auto doomed = green::spawn([&] { return queue.join(); });
  auto joiner = green::spawn([&] { return queue.join(); });
  green::sleep();
  doomed.kill();
  queue.get();
  queue.task_done();
  EXPECT_TRUE(joiner.get());
}

TEST(JoinableQueue, JoinTimesOut) {
  green::JoinableQueue<int> queue;
  queue.put(1);
  const auto start = Clock::now();
  EXPECT_FALSE(queue.join(30ms));
  EXPECT_GE(Clock::now() - start, 25ms);
}

TEST(LifoQueue, LastInFirstOut) {
  green::LifoQueue<int> queue;
  for (int i = 0; i < 4; ++i) queue.put(i);
  EXPECT_EQ(queue.peek(), 3);
  for (int i = 3; i >= 0; --i) EXPECT_EQ(queue.get(), i);
}

TEST(PriorityQueue, LowestFirst) {
  green::PriorityQueue<std::pair<int, std::string>> queue;
  queue.put({3, "c"});
  queue.put({1, "a"});
  queue.put({2, "b"});
  EXPECT_EQ(queue.peek().second, "a");
  EXPECT_EQ(queue.get().second, "a");
  EXPECT_EQ(queue.get().second, "b");
  EXPECT_EQ(queue.get().second, "c");
  green::PriorityQueue<int, std::greater<int>> highest;
  highest.put(1);
  highest.put(5);
  EXPECT_EQ(highest.get(), 5);
}

TEST(PriorityQueue, AParkedGetterGetsTheLowestItem) {
  green::PriorityQueue<int> queue(4);
  auto getter = green::spawn([&] { return queue.get(); });
  green::sleep();
  queue.put(9);
  queue.put(2);  // both queued before the getter runs: it takes the lowest
  EXPECT_EQ(getter.get(), 2);
  EXPECT_EQ(queue.get(), 9);
}

}  // namespace
