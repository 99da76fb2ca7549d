// aio::Barrier: arrival indexes, rounds and draining, abort and reset, and
// cancellation of a waiter (which, in asyncio, does not break the barrier).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sync_support.hpp"
#include "weft/aio/barrier.hpp"

namespace aio = weft::aio;
using aio::testing::until;
using aio::testing::yield;

namespace {

class AioBarrier : public aio::testing::SyncTest {};

aio::Task<void> arrive(aio::Barrier& barrier, std::vector<std::size_t>& indexes) {
  indexes.push_back(co_await barrier.wait());
}

aio::Task<void> arrive_expecting_broken(aio::Barrier& barrier, int& broken) {
  try {
    co_await barrier.wait();
  } catch (const aio::BrokenBarrierError&) {
    ++broken;
  }
}

std::vector<std::size_t> sorted(std::vector<std::size_t> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

TEST_F(AioBarrier, ZeroPartiesIsAValueError) { EXPECT_THROW(aio::Barrier(0), weft::ValueError); }

TEST_F(AioBarrier, ReleasesEveryPartyWithDistinctIndexes) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(3);
    EXPECT_EQ(barrier.parties(), 3u);
    std::vector<std::size_t> indexes;
    auto a = aio::create_task(arrive(barrier, indexes));
    auto b = aio::create_task(arrive(barrier, indexes));
    co_await yield();
    EXPECT_EQ(barrier.n_waiting(), 2u);
    EXPECT_TRUE(indexes.empty());
    EXPECT_EQ(co_await barrier.wait(), 2u);  // the last arrival does not wait
    co_await a;
    co_await b;
    EXPECT_EQ(sorted(indexes), (std::vector<std::size_t>{0, 1}));
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
  }());
}

TEST_F(AioBarrier, OnePartyNeverWaits) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(1);
    EXPECT_EQ(co_await barrier.wait(), 0u);
    EXPECT_EQ(co_await barrier.wait(), 0u);
  }());
}

TEST_F(AioBarrier, ArrivalsDuringTheDrainWaitForTheNextRound) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(2);
    std::vector<std::size_t> indexes;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int i = 0; i < 6; ++i) tasks.push_back(aio::create_task(arrive(barrier, indexes)));
    for (auto& task : tasks) co_await task;
    EXPECT_EQ(sorted(indexes), (std::vector<std::size_t>{0, 0, 0, 1, 1, 1}));
    EXPECT_EQ(barrier.n_waiting(), 0u);
  }());
}

TEST_F(AioBarrier, TheBarrierIsReusedRoundAfterRound) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(3);
    std::vector<int> progress(3, 0);
    auto worker = [](aio::Barrier& barrier, std::vector<int>& progress, std::size_t me) -> aio::Task<void> {
      for (int round = 0; round < 50; ++round) {
        progress[me] = round;
        co_await barrier.wait();
        // Everybody reached this round before anybody goes on.
        for (int p : progress) EXPECT_GE(p, round);
      }
    };
    auto a = aio::create_task(worker(barrier, progress, 0));
    auto b = aio::create_task(worker(barrier, progress, 1));
    co_await worker(barrier, progress, 2);
    co_await a;
    co_await b;
  }());
}

TEST_F(AioBarrier, AbortBreaksItForWaitersAndLaterArrivalsUntilReset) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(3);
    int broken = 0;
    auto a = aio::create_task(arrive_expecting_broken(barrier, broken));
    auto b = aio::create_task(arrive_expecting_broken(barrier, broken));
    co_await yield();
    barrier.abort();
    EXPECT_TRUE(barrier.broken());
    co_await a;
    co_await b;
    EXPECT_EQ(broken, 2);
    EXPECT_THROW(co_await barrier.wait(), aio::BrokenBarrierError);
    barrier.reset();
    EXPECT_FALSE(barrier.broken());
    std::vector<std::size_t> indexes;
    auto c = aio::create_task(arrive(barrier, indexes));
    auto d = aio::create_task(arrive(barrier, indexes));
    co_await arrive(barrier, indexes);
    co_await c;
    co_await d;
    EXPECT_EQ(sorted(indexes), (std::vector<std::size_t>{0, 1, 2}));
  }());
}

TEST_F(AioBarrier, ResetBreaksTheCurrentWaitersOnlyAndArrivalsWaitForThemToLeave) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(2);
    int broken = 0;
    auto waiter = aio::create_task(arrive_expecting_broken(barrier, broken));
    co_await yield();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    // These two arrive before the old waiter has left: they are held back,
    // then form a round of their own.
    std::vector<std::size_t> indexes;
    auto c = aio::create_task(arrive(barrier, indexes));
    auto d = aio::create_task(arrive(barrier, indexes));
    barrier.reset();
    EXPECT_FALSE(barrier.broken());
    EXPECT_EQ(barrier.n_waiting(), 0u);
    co_await waiter;
    EXPECT_EQ(broken, 1);
    co_await c;
    co_await d;
    EXPECT_EQ(sorted(indexes), (std::vector<std::size_t>{0, 1}));
  }());
}

TEST_F(AioBarrier, ACancelledWaiterLeavesWithoutBreakingIt) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(2);
    std::vector<std::size_t> indexes;
    auto cancelled = aio::create_task(arrive(barrier, indexes));
    co_await yield();
    EXPECT_EQ(barrier.n_waiting(), 1u);
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, aio::CancelledError);
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
    auto other = aio::create_task(arrive(barrier, indexes));
    co_await until([&] { return barrier.n_waiting() == 1; });
    EXPECT_EQ(co_await barrier.wait(), 1u);
    co_await other;
    EXPECT_EQ(indexes, std::vector<std::size_t>{0});
  }());
}

TEST_F(AioBarrier, ACancelledArrivalHeldBackDuringTheDrainLeavesQuietly) {
  run([]() -> aio::Task<void> {
    aio::Barrier barrier(2);
    std::vector<std::size_t> indexes;
    auto first = aio::create_task(arrive(barrier, indexes));
    co_await yield();
    auto held_back = aio::create_task(arrive(barrier, indexes));
    EXPECT_EQ(co_await barrier.wait(), 1u);  // releases `first`; the barrier drains
    co_await yield();                        // `held_back` arrives during the drain...
    held_back.cancel();                      // ...and is cancelled there
    EXPECT_THROW(co_await held_back, aio::CancelledError);
    co_await first;
    EXPECT_EQ(barrier.n_waiting(), 0u);
    EXPECT_FALSE(barrier.broken());
    auto again = aio::create_task(arrive(barrier, indexes));
    const std::size_t mine = co_await barrier.wait();
    co_await again;
    EXPECT_EQ(indexes, (std::vector<std::size_t>{0, 1 - mine}));
  }());
}
