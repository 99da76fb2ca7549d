// aio::Queue, LifoQueue and PriorityQueue: orders, the nowait and try_
// forms, waiting puts and gets in FIFO order, task_done/join, cancellation
// of every wait (and of a getter or putter already woken: nothing is lost),
// Python 3.13's shutdown, move-only items, and a many-producer stress.
#include <gtest/gtest.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sync_support.hpp"
#include "weft/aio/queue.hpp"

namespace aio = weft::aio;
using aio::testing::until;
using aio::testing::yield;

namespace {

class AioQueue : public aio::testing::SyncTest {};

aio::Task<void> get_into(aio::Queue<int>& queue, std::vector<int>& got) { got.push_back(co_await queue.get()); }

aio::Task<void> put_then_record(aio::Queue<int>& queue, int item, std::vector<int>& done) {
  co_await queue.put(item);
  done.push_back(item);
}

// A task that only records that it ran: if it has not when the caller looks
// again, the caller never suspended in between.
struct Witness {
  bool ran = false;
  aio::TaskHandle<void> task;
  Witness() {
    task = aio::create_task([](bool& ran) -> aio::Task<void> {
      ran = true;
      co_return;
    }(ran));
  }
};

}  // namespace

TEST_F(AioQueue, FifoOrderSizesAndTheNowaitForms) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(2);
    EXPECT_EQ(queue.maxsize(), 2u);
    EXPECT_TRUE(queue.empty());
    EXPECT_FALSE(queue.full());
    EXPECT_THROW(queue.get_nowait(), aio::QueueEmpty);
    EXPECT_EQ(queue.try_get(), std::nullopt);
    queue.put_nowait(1);
    co_await queue.put(2);
    EXPECT_TRUE(queue.full());
    EXPECT_EQ(queue.qsize(), 2u);
    EXPECT_THROW(queue.put_nowait(3), aio::QueueFull);
    EXPECT_FALSE(queue.try_put(3));
    EXPECT_EQ(queue.get_nowait(), 1);
    EXPECT_TRUE(queue.try_put(3));
    EXPECT_EQ(co_await queue.get(), 2);
    EXPECT_EQ(queue.try_get(), std::optional<int>(3));
    EXPECT_TRUE(queue.empty());
  }());
}

TEST_F(AioQueue, AnUnboundedQueueIsNeverFull) {
  aio::Queue<int> queue;
  for (int i = 0; i < 10000; ++i) queue.put_nowait(i);
  EXPECT_FALSE(queue.full());
  EXPECT_EQ(queue.qsize(), 10000u);
  EXPECT_EQ(queue.maxsize(), 0u);
}

TEST_F(AioQueue, LifoAndPriorityOrders) {
  run([]() -> aio::Task<void> {
    aio::LifoQueue<int> lifo;
    aio::PriorityQueue<int> lowest_first;
    aio::PriorityQueue<int, std::greater<int>> highest_first;
    for (int x : {3, 1, 4, 1, 5}) {
      co_await lifo.put(x);
      co_await lowest_first.put(x);
      co_await highest_first.put(x);
    }
    std::vector<int> a, b, c;
    while (!lifo.empty()) a.push_back(co_await lifo.get());
    while (!lowest_first.empty()) b.push_back(co_await lowest_first.get());
    while (!highest_first.empty()) c.push_back(co_await highest_first.get());
    EXPECT_EQ(a, (std::vector<int>{5, 1, 4, 1, 3}));
    EXPECT_EQ(b, (std::vector<int>{1, 1, 3, 4, 5}));
    EXPECT_EQ(c, (std::vector<int>{5, 4, 3, 1, 1}));
  }());
}

TEST_F(AioQueue, PriorityEntriesArePriorityDataPairs) {
  run([]() -> aio::Task<void> {
    aio::PriorityQueue<std::pair<int, std::string>> queue;
    co_await queue.put({2, "b"});
    co_await queue.put({1, "a"});
    co_await queue.put({3, "c"});
    EXPECT_EQ((co_await queue.get()).second, "a");
    EXPECT_EQ((co_await queue.get()).second, "b");
    EXPECT_EQ((co_await queue.get()).second, "c");
  }());
}

TEST_F(AioQueue, PutAndGetThatCanGoAheadNeverSuspend) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(3);
    Witness witness;
    for (int i = 0; i < 3; ++i) co_await queue.put(i);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(co_await queue.get(), i);
      queue.task_done();
    }
    co_await queue.join();
    EXPECT_FALSE(witness.ran);
    co_await witness.task;
  }());
}

TEST_F(AioQueue, GettersWaitAndAreServedInOrder) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue;
    std::vector<int> got;
    std::vector<aio::TaskHandle<void>> getters;
    for (int i = 0; i < 3; ++i) getters.push_back(aio::create_task(get_into(queue, got)));
    co_await yield();
    EXPECT_TRUE(got.empty());
    for (int i = 10; i < 13; ++i) co_await queue.put(i);
    for (auto& getter : getters) co_await getter;
    EXPECT_EQ(got, (std::vector<int>{10, 11, 12}));
  }());
}

TEST_F(AioQueue, PuttersWaitWhileFullAndAreServedInOrder) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(1);
    std::vector<int> done;
    co_await queue.put(0);
    std::vector<aio::TaskHandle<void>> putters;
    for (int i = 1; i <= 3; ++i) putters.push_back(aio::create_task(put_then_record(queue, i, done)));
    co_await yield();
    EXPECT_TRUE(done.empty());
    std::vector<int> got;
    for (int i = 0; i < 4; ++i) got.push_back(co_await queue.get());
    for (auto& putter : putters) co_await putter;
    EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
    EXPECT_EQ(done, (std::vector<int>{1, 2, 3}));
  }());
}

TEST_F(AioQueue, AWokenGetterWhoseItemWasTakenWaitsAgain) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue;
    std::vector<int> got;
    auto getter = aio::create_task(get_into(queue, got));
    co_await yield();
    queue.put_nowait(1);               // wakes `getter`...
    EXPECT_EQ(queue.get_nowait(), 1);  // ...but this task takes the item first (Python allows it)
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_FALSE(getter.done());
    queue.put_nowait(2);
    co_await getter;
    EXPECT_EQ(got, std::vector<int>{2});
  }());
}

TEST_F(AioQueue, TaskDoneAndJoin) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue;
    EXPECT_THROW(queue.task_done(), weft::ValueError);
    co_await queue.join();  // nothing unfinished: returns at once
    for (int i = 0; i < 3; ++i) co_await queue.put(i);
    EXPECT_EQ(queue.unfinished_tasks(), 3u);
    bool joined = false;
    auto joiner = aio::create_task([](aio::Queue<int>& queue, bool& joined) -> aio::Task<void> {
      co_await queue.join();
      joined = true;
    }(queue, joined));
    for (int i = 0; i < 3; ++i) {
      co_await queue.get();
      co_await yield();
      EXPECT_FALSE(joined);
      queue.task_done();
    }
    co_await joiner;
    EXPECT_TRUE(joined);
    EXPECT_THROW(queue.task_done(), weft::ValueError);
  }());
}

TEST_F(AioQueue, CancellingAWaitingGetterPutterOrJoinerLeavesTheQueueIntact) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(1);
    std::vector<int> got, done;
    auto getter = aio::create_task(get_into(queue, got));
    co_await yield();
    getter.cancel("get");
    EXPECT_THROW(co_await getter, aio::CancelledError);
    co_await queue.put(1);
    EXPECT_EQ(queue.qsize(), 1u) << "the item went to the cancelled getter";

    auto putter = aio::create_task(put_then_record(queue, 2, done));
    co_await yield();
    putter.cancel("put");
    EXPECT_THROW(co_await putter, aio::CancelledError);
    EXPECT_EQ(queue.get_nowait(), 1);
    EXPECT_TRUE(queue.empty()) << "the cancelled putter's item was added";

    auto joiner = aio::create_task([](aio::Queue<int>& queue) -> aio::Task<void> { co_await queue.join(); }(queue));
    co_await yield();
    joiner.cancel();
    EXPECT_THROW(co_await joiner, aio::CancelledError);
    queue.task_done();
    co_await queue.join();
    EXPECT_TRUE(done.empty());
  }());
}

TEST_F(AioQueue, AGetterWokenThenCancelledLeavesTheItemToTheNext) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue;
    std::vector<int> first_got, second_got;
    auto first = aio::create_task(get_into(queue, first_got));
    auto second = aio::create_task(get_into(queue, second_got));
    co_await yield();
    queue.put_nowait(7);  // wakes `first`
    first.cancel();       // before it ran
    EXPECT_THROW(co_await first, aio::CancelledError);
    co_await second;
    EXPECT_TRUE(first_got.empty());
    EXPECT_EQ(second_got, std::vector<int>{7});
  }());
}

TEST_F(AioQueue, APutterWokenThenCancelledLeavesTheSlotToTheNext) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(1);
    std::vector<int> done;
    co_await queue.put(0);
    auto first = aio::create_task(put_then_record(queue, 1, done));
    auto second = aio::create_task(put_then_record(queue, 2, done));
    co_await yield();
    EXPECT_EQ(queue.get_nowait(), 0);  // wakes `first`
    first.cancel();                    // before it ran
    EXPECT_THROW(co_await first, aio::CancelledError);
    co_await second;
    EXPECT_EQ(done, std::vector<int>{2});
    EXPECT_EQ(queue.get_nowait(), 2);
  }());
}

TEST_F(AioQueue, ShutdownRefusesPutsAndDrainsBeforeRefusingGets) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue;
    co_await queue.put(1);
    co_await queue.put(2);
    queue.shutdown();
    EXPECT_TRUE(queue.is_shutdown());
    EXPECT_THROW(co_await queue.put(3), aio::QueueShutDown);
    EXPECT_THROW(queue.put_nowait(3), aio::QueueShutDown);
    EXPECT_THROW(queue.try_put(3), aio::QueueShutDown);
    EXPECT_EQ(co_await queue.get(), 1);
    EXPECT_EQ(queue.get_nowait(), 2);
    EXPECT_THROW(co_await queue.get(), aio::QueueShutDown);
    EXPECT_THROW(queue.get_nowait(), aio::QueueShutDown);
    EXPECT_THROW(queue.try_get(), aio::QueueShutDown);
    EXPECT_EQ(queue.unfinished_tasks(), 2u);  // a plain shutdown retires nothing
  }());
}

TEST_F(AioQueue, ShutdownWakesWaitingGettersAndPutters) {
  run([]() -> aio::Task<void> {
    aio::Queue<int> empty_queue;
    aio::Queue<int> full_queue(1);
    co_await full_queue.put(0);
    int refused = 0;
    auto getter = aio::create_task([](aio::Queue<int>& queue, int& refused) -> aio::Task<void> {
      try {
        co_await queue.get();
      } catch (const aio::QueueShutDown&) {
        ++refused;
      }
    }(empty_queue, refused));
    auto putter = aio::create_task([](aio::Queue<int>& queue, int& refused) -> aio::Task<void> {
      try {
        co_await queue.put(1);
      } catch (const aio::QueueShutDown&) {
        ++refused;
      }
    }(full_queue, refused));
    co_await yield();
    EXPECT_EQ(refused, 0);
    empty_queue.shutdown();
    full_queue.shutdown();
    co_await getter;
    co_await putter;
    EXPECT_EQ(refused, 2);
    EXPECT_EQ(full_queue.get_nowait(), 0);  // what was in stays
  }());
}

TEST_F(AioQueue, ImmediateShutdownDropsTheItemsAndReleasesJoin) {
  run([]() -> aio::Task<void> {
    aio::Queue<std::shared_ptr<int>> queue(2);
    auto item = std::make_shared<int>(1);
    co_await queue.put(item);
    co_await queue.put(item);
    EXPECT_EQ(item.use_count(), 3);
    bool joined = false;
    auto joiner = aio::create_task([](aio::Queue<std::shared_ptr<int>>& queue, bool& joined) -> aio::Task<void> {
      co_await queue.join();
      joined = true;
    }(queue, joined));
    int refused = 0;
    auto putter = aio::create_task([](aio::Queue<std::shared_ptr<int>>& queue, int& refused) -> aio::Task<void> {
      try {
        co_await queue.put(nullptr);
      } catch (const aio::QueueShutDown&) {
        ++refused;
      }
    }(queue, refused));
    co_await yield();
    EXPECT_FALSE(joined);
    queue.shutdown(true);
    EXPECT_EQ(item.use_count(), 1) << "the items were not dropped";
    EXPECT_TRUE(queue.empty());
    EXPECT_EQ(queue.unfinished_tasks(), 0u);
    EXPECT_THROW(co_await queue.get(), aio::QueueShutDown);
    co_await joiner;
    co_await putter;
    EXPECT_TRUE(joined);
    EXPECT_EQ(refused, 1);
  }());
}

TEST_F(AioQueue, MoveOnlyItemsGoThroughBothPaths) {
  run([]() -> aio::Task<void> {
    aio::Queue<std::unique_ptr<int>> queue(1);
    co_await queue.put(std::make_unique<int>(1));
    auto putter = aio::create_task([](aio::Queue<std::unique_ptr<int>>& queue) -> aio::Task<void> {
      co_await queue.put(std::make_unique<int>(2));  // waits: the queue is full
    }(queue));
    co_await yield();
    EXPECT_EQ(*co_await queue.get(), 1);
    co_await putter;
    EXPECT_EQ(*co_await queue.get(), 2);

    auto getter = aio::create_task([](aio::Queue<std::unique_ptr<int>>& queue) -> aio::Task<int> {
      co_return *co_await queue.get();  // waits: the queue is empty
    }(queue));
    co_await yield();
    auto item = std::make_unique<int>(3);
    EXPECT_TRUE(queue.try_put(std::move(item)));
    EXPECT_EQ(item, nullptr);
    auto refused = std::make_unique<int>(4);
    EXPECT_FALSE(queue.try_put(std::move(refused)));
    EXPECT_TRUE(refused != nullptr && *refused == 4) << "a refused try_put moved the item away";
    EXPECT_EQ(co_await getter, 3);
    EXPECT_EQ(queue.try_get(), std::nullopt);
  }());
}

TEST_F(AioQueue, FourProducersFourConsumersEveryItemArrivesOnce) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  constexpr int kPerProducer = 25000;
  constexpr int kItems = kProducers * kPerProducer;
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(16);
    std::vector<int> seen(kItems, 0);
    auto producer = [](aio::Queue<int>& queue, int first) -> aio::Task<void> {
      for (int i = first; i < first + kPerProducer; ++i) {
        co_await queue.put(i);
        if (i % 97 == 0) co_await yield();
      }
    };
    auto consumer = [](aio::Queue<int>& queue, std::vector<int>& seen) -> aio::Task<void> {
      for (;;) {
        const int item = co_await queue.get();
        if (item < 0) {
          queue.task_done();
          co_return;
        }
        ++seen[static_cast<std::size_t>(item)];
        queue.task_done();
        if (item % 89 == 0) co_await yield();
      }
    };
    std::vector<aio::TaskHandle<void>> producers, consumers;
    for (int c = 0; c < kConsumers; ++c) consumers.push_back(aio::create_task(consumer(queue, seen)));
    for (int p = 0; p < kProducers; ++p) producers.push_back(aio::create_task(producer(queue, p * kPerProducer)));
    for (auto& p : producers) co_await p;
    co_await queue.join();
    for (int c = 0; c < kConsumers; ++c) co_await queue.put(-1);
    for (auto& c : consumers) co_await c;
    EXPECT_EQ(seen, std::vector<int>(kItems, 1)) << "an item was lost or delivered twice";
    EXPECT_TRUE(queue.empty());
  }());
}

TEST_F(AioQueue, CancelledConsumersLoseNoItem) {
  constexpr int kItems = 5000;
  run([]() -> aio::Task<void> {
    aio::Queue<int> queue(4);
    std::vector<int> seen(kItems, 0);
    auto consumer = [](aio::Queue<int>& queue, std::vector<int>& seen) -> aio::Task<void> {
      for (;;) ++seen[static_cast<std::size_t>(co_await queue.get())];
    };
    std::vector<aio::TaskHandle<void>> consumers;
    for (int i = 0; i < kItems; ++i) {
      // Keep eight consumers alive, cancelling one (wherever it is: waiting,
      // or woken for an item and not yet run) every few items.
      if (i % 5 == 0) {
        if (consumers.size() >= 8) consumers[static_cast<std::size_t>(i) % consumers.size()].cancel();
        consumers.push_back(aio::create_task(consumer(queue, seen)));
      }
      co_await queue.put(i);
    }
    co_await until([&] { return queue.empty(); });
    for (auto& c : consumers) c.cancel();
    for (auto& c : consumers) EXPECT_THROW(co_await c, aio::CancelledError);
    EXPECT_EQ(seen, std::vector<int>(kItems, 1)) << "an item was lost or delivered twice";
  }());
}
