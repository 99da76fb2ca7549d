// mp::Queue, SimpleQueue and JoinableQueue within one process: every call and error, timeouts,
// the ring's byte capacity, encoded items, items larger than the ring, threads on both sides.
#include <gtest/gtest.h>
#include <weft/mp/queues.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/codec/struct.hpp"

namespace {

using namespace weft::test;
using weft::mp::JoinableQueue;
using weft::mp::Queue;
using weft::mp::QueueOptions;
using weft::mp::SimpleQueue;

struct Order {
  std::string item;
  int quantity = 0;
  std::vector<double> prices;
  WEFT_CODEC(item, quantity, prices)
  bool operator==(const Order&) const = default;
};

struct Point {
  double x;
  double y;
  std::int64_t tag;
};

std::string pattern(std::size_t size, int seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

TEST(MpQueue, StartsEmptyWithDefaults) {
  Queue<int> q;
  EXPECT_EQ(q.maxsize(), 0u);
  EXPECT_EQ(q.capacity(), std::size_t{4} << 20);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
}

TEST(MpQueue, CapacityIsRoundedUpToAPowerOfTwo) {
  EXPECT_EQ(Queue<int>(0, QueueOptions{1}).capacity(), 4096u);
  EXPECT_EQ(Queue<int>(0, QueueOptions{5000}).capacity(), 8192u);
  EXPECT_THROW(Queue<int>(0, QueueOptions{(std::size_t{1} << 30) + 1}), weft::ValueError);
}

TEST(MpQueue, ItemsComeOutInOrder) {
  Queue<int> q;
  for (int i = 0; i < 1000; ++i) q.put(i);
  EXPECT_EQ(q.qsize(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(MpQueue, MaxsizeCountsItems) {
  Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  q.put(1);
  EXPECT_FALSE(q.full());
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_THROW(q.put(3, false), weft::Full);
  EXPECT_THROW(q.put_nowait(3), weft::Full);
  EXPECT_FALSE(q.try_put(3));
  EXPECT_EQ(q.get(), 1);
  EXPECT_FALSE(q.full());
  EXPECT_TRUE(q.try_put(3));
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.get(false), 3);
}

TEST(MpQueue, TimedPutOnFullThrowsFullAfterTimeout) {
  Queue<int> q(1);
  q.put(1);
  Stopwatch sw;
  EXPECT_THROW(q.put(2, kTick), weft::Full);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  Stopwatch sw2;
  EXPECT_FALSE(q.try_put(2, kTick));
  EXPECT_TRUE(expired_after(sw2.elapsed(), kTick));
  EXPECT_THROW(q.put(2, 0ms), weft::Full);
  EXPECT_EQ(q.qsize(), 1u);
}

TEST(MpQueue, GetOnEmptyThrowsEmpty) {
  Queue<int> q;
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get_nowait(), weft::Empty);
  EXPECT_EQ(q.try_get(), std::nullopt);
  Stopwatch sw;
  EXPECT_THROW(q.get(kTick), weft::Empty);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  Stopwatch sw2;
  EXPECT_EQ(q.try_get(kTick), std::nullopt);
  EXPECT_TRUE(expired_after(sw2.elapsed(), kTick));
  EXPECT_THROW(q.get(0ms), weft::Empty);
}

TEST(MpQueue, NegativeTimeoutsCountAsZero) {
  Queue<int> q(1);
  EXPECT_THROW(q.get(-1ms), weft::Empty);
  EXPECT_EQ(q.try_get(-1ms), std::nullopt);
  q.put(1, -1ms);
  EXPECT_THROW(q.put(2, -1ms), weft::Full);
  EXPECT_FALSE(q.try_put(2, -1ms));
  EXPECT_EQ(q.get(-1ms), 1);
}

TEST(MpQueue, BlockedGetWakesOnPut) {
  Queue<int> q;
  SleepProbe probe;
  auto got = std::async(std::launch::async, [&] {
    probe.arm();
    return q.get();
  });
  ASSERT_TRUE(probe.wait_asleep());
  q.put(42);
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), 42);
}

TEST(MpQueue, BlockedPutWakesOnGet) {
  Queue<int> q(1);
  q.put(1);
  SleepProbe probe;
  auto put = std::async(std::launch::async, [&] {
    probe.arm();
    q.put(2);
  });
  ASSERT_TRUE(probe.wait_asleep());
  EXPECT_EQ(q.get(), 1);
  ASSERT_EQ(put.wait_for(kPatience), std::future_status::ready);
  put.get();
  EXPECT_EQ(q.get(), 2);
}

TEST(MpQueue, TimedGetReturnsAnItemThatArrivesInTime) {
  Queue<int> q;
  auto got = std::async(std::launch::async, [&] { return q.get(kPatience); });
  q.put(5);
  EXPECT_EQ(got.get(), 5);
}

TEST(MpQueue, CloseRefusesPutAndGetInThisProcess) {
  Queue<int> q;
  q.put(1);
  EXPECT_THROW(q.join_thread(), weft::RuntimeError);
  Queue<int> copy = q;
  q.close();
  q.close();
  try {
    q.put(2);
    ADD_FAILURE() << "put on a closed queue";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "Queue is closed");
  }
  EXPECT_THROW(q.put_nowait(2), weft::ValueError);
  EXPECT_THROW(q.try_put(2), weft::ValueError);
  EXPECT_THROW(q.get(), weft::ValueError);
  EXPECT_THROW(q.get_nowait(), weft::ValueError);
  EXPECT_THROW(q.try_get(), weft::ValueError);
  EXPECT_THROW(copy.get(), weft::ValueError);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_NO_THROW(q.join_thread());
  q.cancel_join_thread();
}

TEST(MpQueue, OutOfBytesBlocksPutLikeFull) {
  Queue<std::string> q(0, QueueOptions{4096});
  const std::string item(1000, 'x');
  int stored = 0;
  while (q.try_put(item)) ++stored;
  EXPECT_GE(stored, 3);
  EXPECT_LE(stored, 4);
  EXPECT_FALSE(q.full());
  EXPECT_THROW(q.put_nowait(item), weft::Full);
  Stopwatch sw;
  EXPECT_THROW(q.put(item, kTick), weft::Full);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_EQ(q.get(), item);
  EXPECT_NO_THROW(q.put_nowait(item));
  EXPECT_EQ(q.qsize(), static_cast<std::size_t>(stored));
}

TEST(MpQueue, EncodedItemsRoundTrip) {
  Queue<Order> orders;
  const Order order{"tea", 3, {1.5, 2.25}};
  orders.put(order);
  EXPECT_EQ(orders.get(), order);

  Queue<std::tuple<int, std::optional<std::string>, std::variant<int, std::string>>> mixed;
  mixed.put({42, std::nullopt, std::string("hello")});
  mixed.put({7, "seven", 8});
  const auto first = mixed.get();
  EXPECT_EQ(std::get<0>(first), 42);
  EXPECT_EQ(std::get<1>(first), std::nullopt);
  EXPECT_EQ(std::get<std::string>(std::get<2>(first)), "hello");
  EXPECT_EQ(std::get<1>(mixed.get()), "seven");

  Queue<std::map<std::string, std::vector<int>>> maps;
  maps.put({{"a", {1, 2}}, {"b", {}}});
  EXPECT_EQ(maps.get().at("a"), (std::vector<int>{1, 2}));

  Queue<std::string> strings;
  strings.put("");
  strings.put(pattern(3000, 1));
  EXPECT_EQ(strings.get(), "");
  EXPECT_EQ(strings.get(), pattern(3000, 1));
}

TEST(MpQueue, TriviallyCopyableItemsTravelAsBytes) {
  Queue<Point> q;
  q.put(Point{1.5, -2.5, 99});
  const Point p = q.get();
  EXPECT_EQ(p.x, 1.5);
  EXPECT_EQ(p.y, -2.5);
  EXPECT_EQ(p.tag, 99);
}

TEST(MpQueue, ItemLargerThanTheRingIsStreamed) {
  Queue<std::string> q(0, QueueOptions{4096});
  const std::string big = pattern(1 << 20, 3);
  auto got = std::async(std::launch::async, [&] {
    return std::vector<std::string>{q.get(), q.get(), q.get()};
  });
  q.put("small");
  q.put(big);
  q.put("after");
  EXPECT_EQ(got.get(), (std::vector<std::string>{"small", big, "after"}));
  EXPECT_TRUE(q.empty());
}

TEST(MpQueue, ItemLargerThanTheRingNeedsAConsumerToGoWithoutBlocking) {
  Queue<std::string> q(0, QueueOptions{4096});
  EXPECT_THROW(q.put_nowait(pattern(20000, 1)), weft::Full);
  Stopwatch sw;
  EXPECT_THROW(q.put(pattern(20000, 2), kTick), weft::Full);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  // The chunks written before giving up were taken back.
  EXPECT_TRUE(q.empty());
  q.put("next");
  EXPECT_EQ(q.get(), "next");
  EXPECT_THROW(q.get(kTick), weft::Empty);
  auto got = std::async(std::launch::async, [&] { return q.get(); });
  q.put(pattern(20000, 4));
  EXPECT_EQ(got.get(), pattern(20000, 4));
}

TEST(MpQueue, ManyThreadsEachItemExactlyOnce) {
  constexpr int kProducers = 4, kConsumers = 4;
  const int per_producer = scaled(25000);
  const int total = per_producer * kProducers;
  Queue<int> q(64, QueueOptions{8192});
  std::vector<std::atomic<int>> seen(total);
  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) q.put(p * per_producer + i);
    });
  for (int c = 0; c < kConsumers; ++c)
    threads.emplace_back([&] {
      while (true) {
        const int item = q.get();
        if (item < 0) return;
        seen[item].fetch_add(1);
      }
    });
  for (int p = 0; p < kProducers; ++p) threads[p].join();
  for (int c = 0; c < kConsumers; ++c) q.put(-1);
  for (auto& thread : threads)
    if (thread.joinable()) thread.join();
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(), [](auto& n) { return n.load() == 1; }), total);
}

TEST(MpQueue, ThreadsShareBigAndSmallItems) {
  Queue<std::string> q(0, QueueOptions{4096});
  const int per_producer = scaled(40);
  std::atomic<std::size_t> bytes{0};
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < 2; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) q.put(pattern(i % 4 == 0 ? 10000 : 100, p));
    });
  for (int c = 0; c < 2; ++c)
    threads.emplace_back([&] {
      while (true) {
        const std::string item = q.get();
        if (item.empty()) return;
        EXPECT_EQ(item, pattern(item.size(), item[0] - 'a'));
        bytes += item.size();
        ++count;
      }
    });
  threads[0].join();
  threads[1].join();
  q.put("");
  q.put("");
  threads[2].join();
  threads[3].join();
  EXPECT_EQ(count.load(), 2 * per_producer);
}

TEST(MpSimpleQueue, PutGetEmptyClose) {
  SimpleQueue<std::string> q;
  EXPECT_TRUE(q.empty());
  q.put("a");
  q.put("b");
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get(), "b");
  EXPECT_TRUE(q.empty());
  q.close();
  try {
    q.put("c");
    ADD_FAILURE() << "put on a closed queue";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "SimpleQueue is closed");
  }
  EXPECT_THROW(q.get(), weft::ValueError);
}

TEST(MpSimpleQueue, GetBlocksUntilPut) {
  SimpleQueue<int> q(QueueOptions{4096});
  SleepProbe probe;
  auto got = std::async(std::launch::async, [&] {
    probe.arm();
    return q.get();
  });
  ASSERT_TRUE(probe.wait_asleep());
  q.put(9);
  EXPECT_EQ(got.get(), 9);
}

TEST(MpJoinableQueue, TaskDoneTooOftenIsValueError) {
  JoinableQueue<int> q;
  try {
    q.task_done();
    ADD_FAILURE() << "task_done without a task";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "task_done() called too many times");
  }
  q.put(1);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  q.get();
  q.task_done();
  EXPECT_THROW(q.task_done(), weft::ValueError);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TEST(MpJoinableQueue, JoinWaitsForTheLastTaskDone) {
  JoinableQueue<int> q;
  q.join();
  EXPECT_TRUE(q.join(0ms));
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  Stopwatch sw;
  EXPECT_FALSE(q.join(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  SleepProbe probe;
  auto joined = std::async(std::launch::async, [&] {
    probe.arm();
    q.join();
  });
  ASSERT_TRUE(probe.wait_asleep());
  q.get();
  q.task_done();
  EXPECT_EQ(joined.wait_for(kTick), std::future_status::timeout);
  q.get();
  q.task_done();
  ASSERT_EQ(joined.wait_for(kPatience), std::future_status::ready);
  EXPECT_TRUE(q.join(-1ms));
  q.put(3);
  EXPECT_FALSE(q.join(-1ms)) << "a negative timeout counts as 0";
}

TEST(MpJoinableQueue, IsAQueue) {
  JoinableQueue<std::string> q(1);
  Queue<std::string>& base = q;
  base.put("x");
  EXPECT_THROW(base.put_nowait("y"), weft::Full);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  EXPECT_EQ(base.get(), "x");
  q.close();
  EXPECT_THROW(q.put("z"), weft::ValueError);
  try {
    q.put("z");
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "JoinableQueue is closed");
  }
}

}  // namespace
