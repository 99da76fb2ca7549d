// shutdown(immediate) with Python 3.13 semantics for putters, getters, joiners and try_ forms.
#include <gtest/gtest.h>
#include <weft/queue.hpp>

#include <algorithm>
#include <future>
#include <memory>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

template <class Q>
class Shutdown : public ::testing::Test {};

using QueueKinds =
    ::testing::Types<weft::Queue<int>, weft::LifoQueue<int>, weft::PriorityQueue<int>>;
TYPED_TEST_SUITE(Shutdown, QueueKinds);

TYPED_TEST(Shutdown, PutAfterShutdownThrowsShutDown) {
  TypeParam q(2);
  EXPECT_FALSE(q.is_shutdown());
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(q.put(1), weft::ShutDown);
  EXPECT_THROW(q.put(1, false), weft::ShutDown);
  EXPECT_THROW(q.put(1, kTick), weft::ShutDown);
  EXPECT_THROW(q.put_nowait(1), weft::ShutDown);
  EXPECT_THROW(q.try_put(1), weft::ShutDown);
  EXPECT_THROW(q.try_put(1, kTick), weft::ShutDown);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TYPED_TEST(Shutdown, PutOnAFullShutDownQueueThrowsShutDownNotFull) {
  TypeParam q(1);
  q.put(1);
  q.shutdown();
  EXPECT_THROW(q.put(2, false), weft::ShutDown);
  EXPECT_THROW(q.put_nowait(2), weft::ShutDown);
  EXPECT_THROW(q.try_put(2), weft::ShutDown);
  EXPECT_THROW(q.put(2, kTick), weft::ShutDown);
  EXPECT_EQ(q.qsize(), 1u);
}

TYPED_TEST(Shutdown, GettersDrainThenGetShutDown) {
  TypeParam q;
  for (int i = 0; i < 3; ++i) q.put(i);
  q.shutdown();
  std::vector<int> drained;
  drained.push_back(q.get());
  drained.push_back(q.get(false));
  drained.push_back(*q.try_get(kTick));
  std::sort(drained.begin(), drained.end());
  EXPECT_EQ(drained, (std::vector<int>{0, 1, 2}));
  EXPECT_THROW(q.get(), weft::ShutDown);
  EXPECT_THROW(q.get(false), weft::ShutDown);
  EXPECT_THROW(q.get_nowait(), weft::ShutDown);
  EXPECT_THROW(q.get(kTick), weft::ShutDown);
  EXPECT_THROW(q.try_get(), weft::ShutDown);
  EXPECT_THROW(q.try_get(kTick), weft::ShutDown);
}

TYPED_TEST(Shutdown, DrainedTasksCanStillBeMarkedDone) {
  TypeParam q;
  q.put(1);
  q.put(2);
  q.shutdown();
  q.get();
  q.get();
  EXPECT_FALSE(q.join(0ms));
  q.task_done();
  q.task_done();
  EXPECT_TRUE(q.join(kPatience));
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

TYPED_TEST(Shutdown, BlockedGettersWakeWithShutDown) {
  TypeParam q;
  constexpr int kGetters = 3;
  SleepProbe probes[kGetters];
  std::vector<std::future<void>> getters;
  for (int i = 0; i < kGetters; ++i) {
    getters.push_back(std::async(std::launch::async, [&q, &probe = probes[i], i] {
      probe.arm();
      if (i == 0) q.get();
      if (i == 1) q.get(kPatience * 3);
      if (i == 2) (void)q.try_get(kPatience * 3);
    }));
  }
  for (auto& probe : probes) ASSERT_TRUE(probe.wait_asleep());
  Stopwatch sw;
  q.shutdown();
  for (auto& getter : getters) {
    ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
    EXPECT_THROW(getter.get(), weft::ShutDown);
  }
  EXPECT_LT(sw.elapsed(), kPatience);
}

TYPED_TEST(Shutdown, BlockedPuttersOnFullQueueWakeWithShutDown) {
  TypeParam q(1);
  q.put(100);
  constexpr int kPutters = 3;
  SleepProbe probes[kPutters];
  std::vector<std::future<void>> putters;
  for (int i = 0; i < kPutters; ++i) {
    putters.push_back(std::async(std::launch::async, [&q, &probe = probes[i], i] {
      probe.arm();
      if (i == 0) q.put(i);
      if (i == 1) q.put(i, kPatience * 3);
      if (i == 2) (void)q.try_put(int{i}, kPatience * 3);
    }));
  }
  for (auto& probe : probes) ASSERT_TRUE(probe.wait_asleep());
  q.shutdown();
  for (auto& putter : putters) {
    ASSERT_EQ(putter.wait_for(kPatience), std::future_status::ready);
    EXPECT_THROW(putter.get(), weft::ShutDown);
  }
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(), 100);
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TYPED_TEST(Shutdown, ImmediateDiscardsItemsAndReleasesJoin) {
  TypeParam q;
  for (int i = 0; i < 3; ++i) q.put(i);
  SleepProbe probe;
  auto joiner = std::async(std::launch::async, [&] {
    probe.arm();
    q.join();
  });
  ASSERT_TRUE(probe.wait_asleep());
  q.shutdown(true);
  ASSERT_EQ(joiner.wait_for(kPatience), std::future_status::ready);
  joiner.get();
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_THROW(q.get(false), weft::ShutDown);
  EXPECT_THROW(q.put(1), weft::ShutDown);
}

TYPED_TEST(Shutdown, ImmediateRetiresOnlyTheDiscardedTasks) {
  TypeParam q;
  for (int i = 0; i < 3; ++i) q.put(i);
  q.get();
  q.shutdown(true);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  EXPECT_FALSE(q.join(kTick));
  q.task_done();
  EXPECT_TRUE(q.join(0ms));
  EXPECT_THROW(q.task_done(), weft::ValueError);
}

TYPED_TEST(Shutdown, ImmediateAfterGracefulDiscardsTheRest) {
  TypeParam q;
  q.put(1);
  q.put(2);
  q.shutdown();
  q.get();
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.get(false), weft::ShutDown);
}

TYPED_TEST(Shutdown, ShuttingDownTwiceIsHarmless) {
  TypeParam q;
  q.put(1);
  q.shutdown();
  q.shutdown();
  EXPECT_EQ(q.get(), 1);
  EXPECT_THROW(q.get(), weft::ShutDown);
}

TEST(QueueShutdown, ImmediateDestroysDiscardedItems) {
  weft::Queue<std::shared_ptr<int>> q;
  auto item = std::make_shared<int>(1);
  std::weak_ptr<int> watch = item;
  q.put(std::move(item));
  q.shutdown(true);
  EXPECT_TRUE(watch.expired());
}

TEST(QueueShutdown, RefusedTryPutLeavesMoveOnlyItemUntouched) {
  weft::Queue<std::unique_ptr<int>> q;
  q.shutdown();
  auto item = std::make_unique<int>(3);
  int* const raw = item.get();
  EXPECT_THROW(q.try_put(std::move(item)), weft::ShutDown);
  EXPECT_EQ(item.get(), raw);
  EXPECT_THROW(q.try_put(std::move(item), kTick), weft::ShutDown);
  EXPECT_EQ(item.get(), raw);
}

}  // namespace
