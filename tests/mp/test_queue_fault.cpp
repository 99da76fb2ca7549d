// mp queues with processes SIGKILLed inside them: asleep in put or get, at random points of a
// stream of puts or gets (often while holding the ring's lock), and in the middle of an item
// larger than the ring. The queue stays usable; no committed item is lost or duplicated.
#include <gtest/gtest.h>
#include <signal.h>
#include <weft/mp/queues.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mp/test_queue_support.hpp"

namespace {

using namespace weft::test;
using weft::mp::Queue;
using weft::mp::QueueOptions;

std::uint64_t recoveries(const Queue<int>& q) {
  return weft::mp::detail::QueueAccess::ring(q)->recoveries();
}

std::string pattern(std::size_t size, int seed) {
  std::string text(size, '\0');
  for (std::size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return text;
}

TEST(MpQueueFault, ConsumerKilledAsleepInGet) {
  Queue<int> q;
  Child sleeper = Child::fork([&] { q.get(); });
  ASSERT_TRUE(eventually([&] { return sleeper.asleep(); }));
  EXPECT_EQ(sleeper.kill(), 128 + SIGKILL);
  q.put(1);
  Child consumer = Child::fork([&] {
    if (q.get() != 1) throw std::runtime_error("wrong item");
  });
  EXPECT_EQ(consumer.wait(), 0);
  q.put(2);
  EXPECT_EQ(q.get(), 2);
}

TEST(MpQueueFault, ProducerKilledAsleepInPut) {
  Queue<int> q(1);
  q.put(1);
  Child producer = Child::fork([&] { q.put(2); });
  ASSERT_TRUE(eventually([&] { return producer.asleep(); }));
  EXPECT_EQ(producer.kill(), 128 + SIGKILL);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_THROW(q.get(kTick), weft::Empty);
  q.put(3);
  EXPECT_EQ(q.get(), 3);
}

// A producer that dies at the system call waking the consumer asleep in get() has not
// committed its item yet; the next put still wakes that consumer.
TEST(MpQueueFault, ProducerKilledAtItsWakeUp) {
  Queue<int> q;
  Child consumer = Child::fork([&] {
    if (q.get() != 2) throw std::runtime_error("wrong item");
  });
  ASSERT_TRUE(eventually([&] { return consumer.asleep(); }));
  Child producer = Child::fork([&] {
    die_at_shared_futex_wake();
    q.put(1);
  });
  const int status = producer.wait();
  if (status == kNoSeccomp) GTEST_SKIP() << "seccomp filters are not allowed here";
  ASSERT_EQ(status, 128 + SIGSYS);
  EXPECT_EQ(q.qsize(), 0u) << "the dead put committed before waking";
  q.put(2);
  EXPECT_EQ(consumer.wait(), 0) << "the consumer was never woken";
  EXPECT_EQ(q.qsize(), 0u);
}

// Each round a child puts round * kStride + 0, 1, 2, ... and records the last put that
// returned; it is killed at a random moment. The queue then holds exactly that prefix of the
// sequence, plus at most the one put that was committed when the kill came. Rounds go on past
// the first 30 until a kill has landed inside the ring's lock (rarer on a loaded machine).
TEST(MpQueueFault, KilledProducersLoseAndDuplicateNothing) {
  constexpr int kRounds = 30;
  constexpr int kMostRounds = 600;
  constexpr int kStride = 1'000'000;
  Queue<int> q(0, QueueOptions{1 << 20});
  SharedCounters last_put(kMostRounds);
  std::mt19937 random(12345);
  for (int round = 0; round < kMostRounds && (round < kRounds || recoveries(q) == 0); ++round) {
    last_put[round].store(0);
    Child producer = Child::fork([&] {
      for (int i = 1;; ++i) {
        q.put(round * kStride + i);
        last_put[round].store(static_cast<std::uint32_t>(i));
      }
    });
    const std::uint32_t progress = 1 + random() % 3000;
    ASSERT_TRUE(eventually([&] { return last_put[round].load() >= progress; }));
    EXPECT_EQ(producer.kill(), 128 + SIGKILL);
    const int returned = static_cast<int>(last_put[round].load());
    int expected = 1;
    for (auto item = q.try_get(); item; item = q.try_get()) {
      ASSERT_EQ(*item, round * kStride + expected) << "round " << round;
      ++expected;
    }
    EXPECT_GE(expected - 1, returned) << "a committed item was lost in round " << round;
    EXPECT_LE(expected - 1, returned + 1) << "round " << round;
  }
  EXPECT_GT(recoveries(q), 0u) << "no kill landed inside the ring's lock";
}

// The queue starts full of distinct items; each round a child gets and records them until it is
// killed. Nothing is ever received twice, and at most one item per kill goes missing (the one a
// consumer had taken when it died).
TEST(MpQueueFault, KilledConsumersDuplicateNothing) {
  constexpr int kRounds = 20;
  constexpr int kItems = 200'000;
  Queue<int> q(0, QueueOptions{4 << 20});
  for (int i = 0; i < kItems; ++i) q.put(i);
  SharedCounters received(kItems);
  SharedCounters taken(1);
  std::mt19937 random(54321);
  for (int round = 0; round < kRounds; ++round) {
    Child consumer = Child::fork([&] {
      while (true) {
        const int item = q.get();
        received[item].fetch_add(1);
        taken[0].fetch_add(1);
      }
    });
    const std::uint32_t target = taken[0].load() + 1 + random() % 2000;
    ASSERT_TRUE(eventually([&] { return taken[0].load() >= target || q.empty(); }));
    EXPECT_EQ(consumer.kill(), 128 + SIGKILL);
  }
  for (auto item = q.try_get(); item; item = q.try_get()) received[*item].fetch_add(1);
  int missing = 0;
  for (int i = 0; i < kItems; ++i) {
    ASSERT_LE(received[i].load(), 1u) << "item " << i << " was received twice";
    missing += received[i].load() == 0;
  }
  EXPECT_LE(missing, kRounds);
  q.put(7);
  EXPECT_EQ(q.get(), 7);
}

TEST(MpQueueFault, ProducerKilledInTheMiddleOfABigItem) {
  Queue<std::string> q(0, QueueOptions{4096});
  Child producer = Child::fork([&] { q.put(pattern(64 * 1024, 1)); });
  ASSERT_TRUE(eventually([&] { return producer.asleep() && q.qsize() == 1; }));
  EXPECT_EQ(producer.kill(), 128 + SIGKILL);
  // The partial item is discarded: nothing is delivered.
  EXPECT_THROW(q.get(kTick), weft::Empty);
  q.put("small");
  EXPECT_EQ(q.get(), "small");
  Child next = Child::fork([&] { q.put(pattern(64 * 1024, 2)); });
  EXPECT_EQ(q.get(), pattern(64 * 1024, 2));
  EXPECT_EQ(next.wait(), 0);
}

TEST(MpQueueFault, ConsumerKilledInTheMiddleOfABigItem) {
  Queue<std::string> q(0, QueueOptions{4096});
  Child producer = Child::fork([&] {
    q.put(pattern(64 * 1024, 1));
    q.put("after");
  });
  ASSERT_TRUE(eventually([&] { return producer.asleep() && q.qsize() == 1; }));
  // Freeze the producer mid-item, let a consumer take what is there, and kill it.
  ASSERT_EQ(::kill(producer.pid(), SIGSTOP), 0);
  Child consumer = Child::fork([&] { q.get(); });
  ASSERT_TRUE(eventually([&] { return q.qsize() == 0 && consumer.asleep(); }));
  EXPECT_EQ(consumer.kill(), 128 + SIGKILL);
  ASSERT_EQ(::kill(producer.pid(), SIGCONT), 0);
  // The rest of the item has no reader; the next consumer drains it and moves on.
  EXPECT_EQ(q.get(kPatience), "after");
  EXPECT_EQ(producer.wait(), 0);
  q.put("usable");
  EXPECT_EQ(q.get(), "usable");
}

}  // namespace
