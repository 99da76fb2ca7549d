// SimpleQueue: unbounded FIFO whose put never blocks, get with Empty/timeouts, move-only items.
#include <gtest/gtest.h>
#include <weft/queue.hpp>

#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

TEST(SimpleQueue, FirstInFirstOut) {
  weft::SimpleQueue<int> q;
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 50; ++i) q.put(i);
  EXPECT_EQ(q.qsize(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST(SimpleQueue, PutIgnoresBlockAndTimeout) {
  weft::SimpleQueue<int> q;
  q.put(1, false);
  q.put(2, 1ms);
  q.put(3, -1ms);
  q.put_nowait(4);
  for (int i = 1; i <= 4; ++i) EXPECT_EQ(q.get_nowait(), i);
}

TEST(SimpleQueue, GetOnEmptyThrowsEmpty) {
  weft::SimpleQueue<int> q;
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get_nowait(), weft::Empty);
  Stopwatch sw;
  EXPECT_THROW(q.get(kTick), weft::Empty);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_THROW(q.get(-1ms), weft::ValueError);
}

TEST(SimpleQueue, TryGet) {
  weft::SimpleQueue<int> q;
  EXPECT_EQ(q.try_get(), std::nullopt);
  Stopwatch sw;
  EXPECT_EQ(q.try_get(kTick), std::nullopt);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  q.put(3);
  EXPECT_EQ(q.try_get(), 3);
}

TEST(SimpleQueue, MoveOnlyItems) {
  weft::SimpleQueue<std::unique_ptr<int>> q;
  q.put(std::make_unique<int>(1));
  q.put(std::make_unique<int>(2));
  EXPECT_EQ(*q.get(), 1);
  EXPECT_EQ(**q.try_get(), 2);
}

TEST(SimpleQueue, BlockedGetWakesOnPutFromAnotherThread) {
  weft::SimpleQueue<int> q;
  SleepProbe probe;
  auto got = std::async(std::launch::async, [&] {
    probe.arm();
    return q.get();
  });
  ASSERT_TRUE(probe.wait_asleep());
  q.put(7);
  ASSERT_EQ(got.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(got.get(), 7);
}

TEST(SimpleQueue, ProducerConsumerKeepsOrder) {
  weft::SimpleQueue<int> q;
  constexpr int kItems = 10000;
  std::thread producer([&] {
    for (int i = 0; i < kItems; ++i) q.put(i);
  });
  std::vector<int> got;
  for (int i = 0; i < kItems; ++i) got.push_back(q.get(kPatience));
  producer.join();
  for (int i = 0; i < kItems; ++i) ASSERT_EQ(got[i], i);
}

}  // namespace
