// Queue<T> and what every bounded queue shares: sizes, Full/Empty, timeouts, try_ forms, tasks.
#include <gtest/gtest.h>
#include <weft/queue.hpp>
#include <weft/threading.hpp>

#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

template <class Q>
class AnyQueue : public ::testing::Test {};

using QueueKinds =
    ::testing::Types<weft::Queue<int>, weft::LifoQueue<int>, weft::PriorityQueue<int>>;
TYPED_TEST_SUITE(AnyQueue, QueueKinds);

TYPED_TEST(AnyQueue, SizesTrackPutsAndGets) {
  TypeParam q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.qsize(), 0u);
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_FALSE(q.full());
  q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
  q.get();
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_FALSE(q.full());
}

TYPED_TEST(AnyQueue, UnboundedIsNeverFull) {
  TypeParam q;
  EXPECT_EQ(q.maxsize(), 0u);
  for (int i = 0; i < 1000; ++i) q.put_nowait(i);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.qsize(), 1000u);
}

TYPED_TEST(AnyQueue, NonBlockingPutOnFullThrowsFull) {
  TypeParam q(1);
  q.put(1);
  EXPECT_THROW(q.put(2, false), weft::Full);
  EXPECT_THROW(q.put_nowait(2), weft::Full);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
}

TYPED_TEST(AnyQueue, NonBlockingGetOnEmptyThrowsEmpty) {
  TypeParam q;
  EXPECT_THROW(q.get(false), weft::Empty);
  EXPECT_THROW(q.get_nowait(), weft::Empty);
}

TYPED_TEST(AnyQueue, TimedPutOnFullThrowsFullAfterTimeout) {
  TypeParam q(1);
  q.put(1);
  Stopwatch sw;
  EXPECT_THROW(q.put(2, kTick), weft::Full);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_THROW(q.put(2, 0ms), weft::Full);
}

TYPED_TEST(AnyQueue, TimedGetOnEmptyThrowsEmptyAfterTimeout) {
  TypeParam q;
  Stopwatch sw;
  EXPECT_THROW(q.get(kTick), weft::Empty);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_THROW(q.get(0ms), weft::Empty);
}

TYPED_TEST(AnyQueue, ZeroTimeoutSucceedsWhenItCan) {
  TypeParam q(1);
  q.put(5, 0ms);
  EXPECT_EQ(q.get(0ms), 5);
  EXPECT_TRUE(q.try_put(6, 0ms));
  EXPECT_EQ(q.try_get(0ms), 6);
}

TYPED_TEST(AnyQueue, NegativeTimeoutThrowsValueError) {
  TypeParam q(1);
  EXPECT_THROW(q.get(-1ms), weft::ValueError);
  EXPECT_THROW(q.try_get(-1ms), weft::ValueError);
  q.put(1);
  EXPECT_THROW(q.put(2, -1ms), weft::ValueError);
  EXPECT_THROW(q.try_put(2, -1ms), weft::ValueError);
}

TYPED_TEST(AnyQueue, TryFormsReturnInsteadOfThrowing) {
  TypeParam q(1);
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_TRUE(q.try_put(7));
  EXPECT_FALSE(q.try_put(8));
  const int lvalue = 9;
  EXPECT_FALSE(q.try_put(lvalue));
  EXPECT_FALSE(q.try_put(lvalue, 1ms));
  Stopwatch sw;
  EXPECT_FALSE(q.try_put(8, kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_EQ(q.try_get(), 7);
  sw = Stopwatch();
  EXPECT_EQ(q.try_get(kTick), std::nullopt);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TYPED_TEST(AnyQueue, TaskDoneTooOftenThrowsValueError) {
  TypeParam q;
  EXPECT_THROW(q.task_done(), weft::ValueError);
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.get();
  q.get();
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.task_done();
  q.task_done();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

TYPED_TEST(AnyQueue, JoinWaitsForEveryTaskDone) {
  TypeParam q;
  EXPECT_TRUE(q.join(0ms));
  q.join();
  for (int i = 0; i < 3; ++i) q.put(i);
  Stopwatch sw;
  EXPECT_FALSE(q.join(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  std::thread worker([&] {
    for (int i = 0; i < 3; ++i) {
      q.get();
      q.task_done();
    }
  });
  auto joined = std::async(std::launch::async, [&] { q.join(); });
  EXPECT_EQ(joined.wait_for(kPatience), std::future_status::ready);
  worker.join();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TYPED_TEST(AnyQueue, EveryJoinerWakesWhenTheLastTaskIsDone) {
  TypeParam q;
  q.put(1);
  SleepProbe probes[2];
  std::vector<std::future<void>> joiners;
  for (auto& probe : probes) {
    joiners.push_back(std::async(std::launch::async, [&q, &probe] {
      probe.arm();
      q.join();
    }));
  }
  for (auto& probe : probes) ASSERT_TRUE(probe.wait_asleep());
  q.get();
  q.task_done();
  for (auto& joiner : joiners) EXPECT_EQ(joiner.wait_for(kPatience), std::future_status::ready);
}

TYPED_TEST(AnyQueue, BlockedGetWakesOnPut) {
  TypeParam q;
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

TYPED_TEST(AnyQueue, BlockedPutWakesOnGet) {
  TypeParam q(1);
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

TEST(Queue, FirstInFirstOut) {
  weft::Queue<int> q;
  for (int i = 0; i < 100; ++i) q.put(i);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(q.get(), i);
}

TEST(Queue, FifoAcrossRingWrapAround) {
  weft::Queue<int> q(3);
  int next_in = 0;
  int next_out = 0;
  for (int round = 0; round < 50; ++round) {
    while (!q.full()) q.put(next_in++);
    EXPECT_EQ(q.get(), next_out++);
    EXPECT_EQ(q.get(), next_out++);
  }
}

TEST(Queue, PutCopiesAnLvalue) {
  weft::Queue<std::string> q;
  std::string s = "hello";
  q.put(s);
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(q.get(), "hello");
}

TEST(Queue, MoveOnlyItems) {
  weft::Queue<std::unique_ptr<int>> q(2);
  q.put(std::make_unique<int>(1));
  q.put_nowait(std::make_unique<int>(2));
  EXPECT_THROW(q.put_nowait(std::make_unique<int>(3)), weft::Full);
  EXPECT_EQ(*q.get(), 1);
  EXPECT_EQ(*q.get_nowait(), 2);
  EXPECT_TRUE(q.try_put(std::make_unique<int>(4)));
  auto got = q.try_get();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(**got, 4);
}

TEST(Queue, FailedTryPutLeavesMoveOnlyItemUntouched) {
  weft::Queue<std::unique_ptr<int>> q(1);
  q.put(std::make_unique<int>(0));
  auto item = std::make_unique<int>(5);
  int* const raw = item.get();
  EXPECT_FALSE(q.try_put(std::move(item)));
  EXPECT_EQ(item.get(), raw);
  EXPECT_FALSE(q.try_put(std::move(item), kTick));
  EXPECT_EQ(item.get(), raw);
  q.get();
  EXPECT_TRUE(q.try_put(std::move(item)));
  EXPECT_EQ(item, nullptr);
  EXPECT_EQ(*q.get(), 5);
}

// An item whose move into the queue can be held up, as a producer preempted between claiming
// its place and filling it would be.
struct Stalling {
  struct Hold {
    weft::Event entered;
    weft::Event release;
  };
  int value = 0;
  Hold* hold = nullptr;

  Stalling(int v, Hold* h) : value(v), hold(h) {}
  Stalling(Stalling&& other) noexcept : value(other.value) {
    if (other.hold != nullptr) {
      other.hold->entered.set();
      other.hold->release.wait(kPatience);
    }
  }
};

TEST(Queue, AGetFindsAnItemWhoseEarlierPutIsStillFillingItsPlace) {
  weft::Queue<Stalling> q(8);
  Stalling::Hold hold;
  weft::Thread slow([&] { EXPECT_TRUE(q.try_put(Stalling(1, &hold))); });
  slow.start();
  ASSERT_TRUE(hold.entered.wait(kPatience));
  EXPECT_TRUE(q.try_put(Stalling(2, nullptr)));
  hold.release.set();
  const std::optional<Stalling> first = q.try_get();
  ASSERT_TRUE(first.has_value()) << "reported empty while two puts had claimed their places";
  EXPECT_EQ(first->value, 1);
  EXPECT_EQ(q.get_nowait().value, 2);
  slow.join();
}

// Disabled by default: it fills 2 GiB and takes about a minute. Run it with
// --gtest_also_run_disabled_tests.
TEST(Queue, DISABLED_AnUnboundedQueueRefusesAnItemPastItsCountInsteadOfLosingIt) {
  weft::Queue<char> q;
  const std::size_t limit = 0x7fffffff;
  for (std::size_t i = 0; i < limit; ++i) q.put('x');
  EXPECT_THROW(q.put('y'), weft::Full);
  EXPECT_FALSE(q.try_put('y'));
  EXPECT_EQ(q.qsize(), limit);
  EXPECT_EQ(q.get_nowait(), 'x');
  EXPECT_TRUE(q.try_put('z'));
}

}  // namespace
