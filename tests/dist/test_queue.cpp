// dist::Queue against a real redis-server: FIFO order, timeouts, maxsize,
// task_done/join, across threads, handles and forked processes; item
// types; a producer/consumer stress; names, URLs and an unreachable server.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dist/redis_suite.hpp"
#include "mp/child_process.hpp"
#include "threading/test_support.hpp"
#include "weft/dist.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/mp/reduction.hpp"
#include "weft/net.hpp"

namespace dist_queue_test {

struct Job {
  std::string name;
  int priority = 0;
  std::vector<double> weights;
  WEFT_CODEC(name, priority, weights)

  friend bool operator==(const Job&, const Job&) = default;
};

}  // namespace dist_queue_test

namespace weft::dist {
namespace {

using namespace std::chrono_literals;
using dist_queue_test::Job;
using weft::test::Child;
using weft::test::eventually;
using weft::test::expired_after;
using weft::test::kPatience;
using weft::test::Stopwatch;

// A blocked call woken by the event it waits for returns well within this;
// one that missed it would wait for its next 2 s look at Redis.
constexpr auto kWakeUp = 1s;

class DistQueue : public testing::RedisSuite {
 protected:

  // Waits until a client of the server at `url` is blocked in BLPOP.
  static bool wait_for_blocked_client(const std::string& url = server_->url()) {
    RedisConnection redis(RedisUrl::parse(url));
    return eventually([&] {
      const std::string info = redis.command({"INFO", "clients"}).str;
      const std::string field = "blocked_clients:";
      const auto at = info.find(field);
      return at != std::string::npos && std::stoll(info.substr(at + field.size())) >= 1;
    });
  }

  // Waits until a join() of this test's queue is subscribed to its `joined` channel.
  static bool wait_for_joiner() {
    RedisConnection redis(RedisUrl::parse(url()));
    const std::string channel = detail::key(queue(), "joined");
    return eventually([&] { return redis.command({"PUBSUB", "NUMSUB", channel}).elements.at(1).integer >= 1; });
  }

};


TEST_F(DistQueue, ItemsComeOutInTheOrderTheyWentIn) {
  Queue<int> q(url(), queue());
  EXPECT_TRUE(q.empty());
  for (int i = 0; i < 100; ++i) q.put(i);
  EXPECT_EQ(q.qsize(), 100u);
  EXPECT_FALSE(q.full());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(), i);
  EXPECT_TRUE(q.empty());
}

TEST_F(DistQueue, GetOnAnEmptyQueueThrowsEmptyAfterItsTimeout) {
  Queue<int> q(url(), queue());
  Stopwatch timed;
  EXPECT_THROW(q.get(200ms), Empty);
  EXPECT_TRUE(expired_after(timed.elapsed(), 200ms));
  Stopwatch nowait;
  EXPECT_THROW(q.get_nowait(), Empty);
  EXPECT_THROW(q.get(false), Empty);
  EXPECT_LT(nowait.elapsed(), 1s);
}

TEST_F(DistQueue, PutOnAFullQueueThrowsFullAfterItsTimeout) {
  Queue<int> q(url(), queue(), 2);
  q.put(1);
  q.put(2);
  EXPECT_TRUE(q.full());
  Stopwatch timed;
  EXPECT_THROW(q.put(3, 200ms), Full);
  EXPECT_TRUE(expired_after(timed.elapsed(), 200ms));
  EXPECT_THROW(q.put_nowait(3), Full);
  EXPECT_THROW(q.put(3, false), Full);
  EXPECT_EQ(q.qsize(), 2u);
}

TEST_F(DistQueue, NegativeTimeoutsAreValueErrors) {
  Queue<int> q(url(), queue());
  EXPECT_THROW(q.get(-1ms), ValueError);
  EXPECT_THROW(q.put(1, -1ms), ValueError);
  EXPECT_THROW(q.join(-1ms), ValueError);
}

TEST_F(DistQueue, NaNTimeoutsAreValueErrors) {
  Queue<int> q(url(), queue());
  const std::chrono::duration<double> nan(std::nan(""));
  EXPECT_THROW(q.get(nan), ValueError);
  EXPECT_THROW(q.put(1, nan), ValueError);
  EXPECT_THROW(q.join(nan), ValueError);
  EXPECT_EQ(q.qsize(), 0u);
}

// A timeout beyond what nanoseconds hold waits forever, as weft::Queue's does.
TEST_F(DistQueue, TimeoutsTooLongToRepresentWaitForever) {
  Queue<int> q(url(), queue());
  q.put(0, std::chrono::hours::max());
  q.put(1, std::chrono::duration<double>(1e30));
  EXPECT_EQ(q.get(std::chrono::hours::max()), 0);
  EXPECT_EQ(q.get(std::chrono::duration<double>(1e30)), 1);
  std::thread putter([&] {
    ASSERT_TRUE(wait_for_blocked_client());
    q.put(2);
  });
  EXPECT_EQ(q.get(std::chrono::hours(3'000'000)), 2);
  putter.join();
  EXPECT_TRUE(q.try_put(3, std::chrono::hours::max()));
  q.put(4, true, std::chrono::hours(3'000'000));
  EXPECT_TRUE(q.try_put(5, std::chrono::duration<double>(1e30)));
  EXPECT_EQ(q.try_get(std::chrono::hours::max()), 3);
  EXPECT_EQ(q.get(true, std::chrono::hours::max()), 4);
  EXPECT_EQ(q.try_get(std::chrono::duration<double>(1e30)), 5);
  for (int i = 0; i < 6; ++i) q.task_done();
  EXPECT_TRUE(q.join(std::chrono::hours::max()));
}

// A descriptor lent by this process could not be taken on another machine.
TEST_F(DistQueue, ASocketIsRefusedAndNothingIsPut) {
  Queue<net::Socket> q(url(), queue());
  auto [a, b] = net::socketpair();
  EXPECT_THROW(q.put(a), codec::EncodeError);
  EXPECT_EQ(q.qsize(), 0u);
}

TEST_F(DistQueue, TryFormsReturnInsteadOfThrowing) {
  Queue<std::string> q(url(), queue(), 1);
  EXPECT_EQ(q.try_get(), std::nullopt);
  Stopwatch timed;
  EXPECT_EQ(q.try_get(100ms), std::nullopt);
  EXPECT_TRUE(expired_after(timed.elapsed(), 100ms));
  EXPECT_TRUE(q.try_put("one"));
  EXPECT_FALSE(q.try_put("two"));
  EXPECT_FALSE(q.try_put("two", 100ms));
  EXPECT_EQ(q.try_get(100ms), "one");
  EXPECT_TRUE(q.try_put("two", std::nullopt));
  EXPECT_EQ(q.try_get(std::nullopt), "two");
}

TEST_F(DistQueue, BlockedGetWakesWhenAnotherThreadPuts) {
  Queue<int> q(url(), queue());
  std::thread putter([&] {
    ASSERT_TRUE(wait_for_blocked_client());
    q.put(42);
  });
  Stopwatch timed;
  EXPECT_EQ(q.get(kPatience), 42);
  EXPECT_LT(timed.elapsed(), kWakeUp);
  putter.join();
}

TEST_F(DistQueue, BlockedPutWakesWhenAnotherThreadGets) {
  Queue<std::string> q(url(), queue(), 1);
  q.put("first");
  std::thread getter([&] {
    ASSERT_TRUE(wait_for_blocked_client());
    EXPECT_EQ(q.get(), "first");
  });
  Stopwatch timed;
  q.put("second", kPatience);
  EXPECT_LT(timed.elapsed(), kWakeUp);
  getter.join();
  EXPECT_EQ(q.get_nowait(), "second");
}

TEST_F(DistQueue, BlockedPutWakesWhenAnotherProcessGets) {
  Queue<std::string> q(url(), queue(), 1);
  q.put("first");
  Child child = Child::fork([] {
    Queue<std::string> theirs(url(), queue(), 1);
    if (!wait_for_blocked_client()) throw std::runtime_error("no put blocked");
    if (theirs.get() != "first") throw std::runtime_error("wrong item");
  });
  Stopwatch timed;
  q.put("second", kPatience);
  EXPECT_LT(timed.elapsed(), kWakeUp);
  EXPECT_EQ(child.wait(), 0);
  EXPECT_EQ(q.get_nowait(), "second");
}

TEST_F(DistQueue, ItemsPutByAnotherProcessArriveInOrder) {
  Queue<int> q(url(), queue(), 4);
  Child child = Child::fork([] {
    Queue<int> theirs(url(), queue(), 4);
    for (int i = 0; i < 50; ++i) theirs.put(i, kPatience);
  });
  for (int i = 0; i < 50; ++i) EXPECT_EQ(q.get(kPatience), i);
  EXPECT_EQ(child.wait(), 0);
}

TEST_F(DistQueue, JoinReturnsWhenAnotherThreadFinishesEveryItem) {
  Queue<int> q(url(), queue());
  for (int i = 0; i < 3; ++i) q.put(i);
  std::thread worker([&] {
    ASSERT_TRUE(wait_for_joiner());
    for (int i = 0; i < 3; ++i) {
      q.get();
      q.task_done();
    }
  });
  Stopwatch timed;
  EXPECT_TRUE(q.join(kPatience));
  EXPECT_LT(timed.elapsed(), kWakeUp);
  worker.join();
  EXPECT_TRUE(q.join(0ms));
}

TEST_F(DistQueue, JoinReturnsWhenAnotherProcessFinishesEveryItem) {
  Queue<int> q(url(), queue());
  for (int i = 0; i < 3; ++i) q.put(i);
  Child child = Child::fork([] {
    Queue<int> theirs(url(), queue());
    if (!wait_for_joiner()) throw std::runtime_error("nobody joined");
    for (int i = 0; i < 3; ++i) {
      theirs.get();
      theirs.task_done();
    }
  });
  Stopwatch timed;
  EXPECT_TRUE(q.join(kPatience));
  EXPECT_LT(timed.elapsed(), kWakeUp);
  EXPECT_EQ(child.wait(), 0);
}

TEST_F(DistQueue, JoinTimesOutWhileItemsAreUnfinished) {
  Queue<int> q(url(), queue());
  EXPECT_TRUE(q.join(0ms));
  q.put(1);
  q.get();
  Stopwatch timed;
  EXPECT_FALSE(q.join(200ms));
  EXPECT_TRUE(expired_after(timed.elapsed(), 200ms));
  q.task_done();
  EXPECT_TRUE(q.join(0ms));
  q.join();
}

TEST_F(DistQueue, TaskDoneMoreTimesThanPutsIsAValueError) {
  Queue<int> q(url(), queue());
  EXPECT_THROW(q.task_done(), ValueError);
  q.put(1);
  q.put(2);
  q.task_done();
  q.task_done();
  EXPECT_THROW(q.task_done(), ValueError);
  q.put(3);
  EXPECT_FALSE(q.join(0ms));  // the refused task_done() did not count
  q.task_done();
  EXPECT_TRUE(q.join(0ms));
}

TEST_F(DistQueue, StructItemsRoundTrip) {
  Queue<Job> q(url(), queue());
  const Job job{"resize", 3, {0.5, 1.25}};
  q.put(job);
  q.put(Job{});
  EXPECT_EQ(q.get(), job);
  EXPECT_EQ(q.get(), Job{});
}

TEST_F(DistQueue, AnItemThatIsNotATIsADecodeErrorAndIsConsumed) {
  Queue<std::string> writer(url(), queue());
  Queue<int> reader(url(), queue());
  writer.put("not a number");
  reader.put(7);
  EXPECT_THROW(reader.get(), codec::DecodeError);
  EXPECT_EQ(reader.get(), 7);
  EXPECT_TRUE(reader.empty());
}

// Redis does not undo a script that fails halfway: a put refused for a foreign value in the
// queue's keys must have written nothing.
TEST_F(DistQueue, APutRefusedForAForeignCountLeavesNoItemBehind) {
  Queue<int> q(url(), queue());
  RedisConnection redis(RedisUrl::parse(url()));
  redis.command({"SET", detail::key(queue(), "unfinished"), "not a number"});
  EXPECT_THROW(q.put(1), RedisResponseError);
  EXPECT_EQ(redis.command({"LLEN", detail::key(queue(), "items")}).integer, 0);
  redis.command({"DEL", detail::key(queue(), "unfinished")});
}

TEST_F(DistQueue, TwoHandlesInOneProcessShareTheQueue) {
  Queue<int> first(url(), queue(), 2);
  Queue<int> second(url(), queue(), 2);
  first.put(1);
  second.put(2);
  EXPECT_TRUE(first.full());
  EXPECT_THROW(second.put_nowait(3), Full);
  EXPECT_EQ(second.get(), 1);
  EXPECT_EQ(first.get(), 2);
  first.task_done();
  EXPECT_FALSE(second.join(0ms));
  second.task_done();
  EXPECT_TRUE(first.join(0ms));
}

TEST_F(DistQueue, DestroyEmptiesTheQueueForEveryHandle) {
  Queue<int> q(url(), queue());
  Queue<int> other(url(), queue());
  q.put(1);
  q.put(2);
  std::atomic<bool> joined{false};
  std::thread joiner([&] { joined = other.join(kPatience); });
  ASSERT_TRUE(wait_for_joiner());
  q.destroy();
  joiner.join();
  EXPECT_TRUE(joined);
  EXPECT_EQ(other.qsize(), 0u);
  EXPECT_THROW(other.task_done(), ValueError);
}

TEST_F(DistQueue, ScriptsFlushedFromTheServerAreLoadedAgain) {
  Queue<int> q(url(), queue(), 10);
  RedisConnection(RedisUrl::parse(url())).command({"SCRIPT", "FLUSH"});
  q.put(1);
  EXPECT_EQ(q.get_nowait(), 1);
  q.task_done();
}

TEST_F(DistQueue, FourProducersAndFourConsumersMoveEveryItemExactlyOnce) {
  constexpr int kThreads = 4;
  const int per_producer = weft::test::scaled(20'000) / kThreads;
  const int total = per_producer * kThreads;
  Queue<int> q(url(), queue(), 64);
  std::vector<std::atomic<int>> seen(static_cast<std::size_t>(total));
  std::atomic<int> lost{0};
  std::vector<std::thread> consumers, producers;
  for (int c = 0; c < kThreads; ++c)
    consumers.emplace_back([&] {
      for (;;) {
        const std::optional<int> item = q.try_get(kPatience);
        if (!item) {
          ++lost;
          return;
        }
        if (*item < 0) return;
        seen[static_cast<std::size_t>(*item)].fetch_add(1);
      }
    });
  for (int p = 0; p < kThreads; ++p)
    producers.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) q.put(p * per_producer + i);
    });
  for (auto& producer : producers) producer.join();
  for (int c = 0; c < kThreads; ++c) q.put(-1);
  for (auto& consumer : consumers) consumer.join();
  EXPECT_EQ(lost, 0);
  int once = 0;
  for (const auto& count : seen) once += count.load() == 1;
  EXPECT_EQ(once, total);
  EXPECT_TRUE(q.empty());
}

TEST_F(DistQueue, BadNamesAndUrlsAreValueErrors) {
  EXPECT_THROW(Queue<int>(url(), ""), ValueError);
  EXPECT_THROW(Queue<int>(url(), "a{b"), ValueError);
  EXPECT_THROW(Queue<int>(url(), "a}b"), ValueError);
  EXPECT_THROW(Queue<int>(url(), "line\nbreak"), ValueError);
  EXPECT_THROW(Queue<int>(url(), std::string(201, 'x')), ValueError);
  EXPECT_NO_THROW(Queue<int>(url(), std::string(200, 'x')));
  EXPECT_THROW(Queue<int>("http://127.0.0.1:6379", queue()), ValueError);
  EXPECT_THROW(Queue<int>("redis://127.0.0.1:0", queue()), ValueError);
}

TEST_F(DistQueue, AnUnreachableServerIsARedisConnectionError) {
  const ConnectOptions quick{.connect_timeout = 300ms, .io_timeout = 2s};
  testing::RedisServer own;
  Queue<int> q(own.url(), queue(), 0, quick);
  q.put(1);
  own.kill();
  Stopwatch timed;
  EXPECT_THROW(q.put(2), RedisConnectionError);
  EXPECT_THROW(q.get(), RedisConnectionError);
  EXPECT_LT(timed.elapsed(), kPatience);
  EXPECT_THROW(Queue<int>(own.url(), queue(), 0, quick), RedisConnectionError);
  own.start();
  q.put(3);  // reconnected; the restarted server kept nothing
  EXPECT_EQ(q.get_nowait(), 3);
}

TEST_F(DistQueue, ABlockedGetWaitsAcrossAServerRestart) {
  testing::RedisServer own;
  Queue<int> q(own.url(), queue());
  std::thread getter([&] { EXPECT_EQ(q.try_get(kPatience), 5); });
  ASSERT_TRUE(wait_for_blocked_client(own.url()));
  own.kill();
  own.start();
  q.put(5);
  getter.join();
}

}  // namespace
}  // namespace weft::dist
