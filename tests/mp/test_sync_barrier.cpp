// weft::mp::Barrier within one process: indices, the action, timeouts, abort and reset, with
// threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mp/sync_support.hpp"
#include "threading/test_support.hpp"
#include "weft/mp/barrier.hpp"

namespace weft::test {
namespace {

// Runs `n` threads calling body() and returns what each returned or -1 if it threw
// BrokenBarrierError.
template <class Body>
std::vector<long> run_parties(int n, Body body) {
  std::vector<long> results(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      try {
        results[static_cast<std::size_t>(i)] = static_cast<long>(body());
      } catch (const BrokenBarrierError&) {
        results[static_cast<std::size_t>(i)] = -1;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return results;
}

TEST(MpBarrier, Attributes) {
  mp::Barrier barrier(3);
  EXPECT_EQ(barrier.parties(), 3u);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
  EXPECT_THROW(mp::Barrier(0), ValueError);
}

TEST(MpBarrier, NegativeTimeoutCountsAsZero) {
  mp::Barrier filled(1, {}, -1ms);
  EXPECT_EQ(filled.wait(), 0u) << "the call that fills the barrier does not wait";
  EXPECT_EQ(filled.wait(-1ms), 0u);
  mp::Barrier barrier(2);
  EXPECT_THROW(barrier.wait(-1ms), BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
}

TEST(MpBarrier, SinglePartyPassesAtOnce) {
  mp::Barrier barrier(1);
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(barrier.wait(), 0u);
}

TEST(MpBarrier, DistinctIndicesOverSeveralRounds) {
  mp::Barrier barrier(3);
  for (int round = 0; round < 5; ++round) {
    auto results = run_parties(3, [&] { return barrier.wait(kPatience); });
    std::sort(results.begin(), results.end());
    EXPECT_EQ(results, (std::vector<long>{0, 1, 2}));
  }
}

TEST(MpBarrier, ActionRunsOncePerRound) {
  std::atomic<int> runs{0};
  mp::Barrier barrier(2, [&] { runs.fetch_add(1); });
  run_parties(2, [&] { return barrier.wait(); });
  run_parties(2, [&] { return barrier.wait(); });
  EXPECT_EQ(runs.load(), 2);
}

TEST(MpBarrier, TheActionMayReadNWaitingAndBroken) {
  // In a child, so that an action that blocks fails the test instead of hanging it.
  auto child = Child::fork([] {
    mp::Barrier* self = nullptr;
    std::size_t waiting = 0;
    bool broken = true;
    mp::Barrier barrier(2, [&] {
      waiting = self->n_waiting();
      broken = self->broken();
    });
    self = &barrier;
    const auto results = run_parties(2, [&] { return barrier.wait(kPatience); });
    require(std::count(results.begin(), results.end(), -1) == 0);
    require(waiting == 2);  // both parties have arrived; the round is not yet released
    require(!broken);
  });
  EXPECT_EQ(child.wait(), 0);
}

TEST(MpBarrier, ThrowingActionBreaksTheBarrier) {
  mp::Barrier barrier(2, [] { throw std::logic_error("action"); });
  std::atomic<int> action_errors{0};
  auto results = run_parties(2, [&]() -> long {
    try {
      return static_cast<long>(barrier.wait(kPatience));
    } catch (const std::logic_error&) {
      action_errors.fetch_add(1);
      return -2;
    }
  });
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, (std::vector<long>{-2, -1}));
  EXPECT_EQ(action_errors.load(), 1);
  EXPECT_TRUE(barrier.broken());
}

TEST(MpBarrier, TimeoutBreaksItForEveryone) {
  mp::Barrier barrier(3);
  Stopwatch watch;
  const auto results = run_parties(2, [&] { return barrier.wait(kTick); });
  EXPECT_EQ(results, (std::vector<long>{-1, -1}));
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
}

TEST(MpBarrier, DefaultTimeout) {
  mp::Barrier barrier(2, {}, kTick);
  Stopwatch watch;
  EXPECT_THROW(barrier.wait(), BrokenBarrierError);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
}

TEST(MpBarrier, AbortWakesWaiters) {
  mp::Barrier barrier(3);
  std::thread aborter([&] {
    ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
    barrier.abort();
  });
  const auto results = run_parties(2, [&] { return barrier.wait(kPatience); });
  aborter.join();
  EXPECT_EQ(results, (std::vector<long>{-1, -1}));
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

TEST(MpBarrier, ResetWakesWaitersAndReopens) {
  mp::Barrier barrier(2);
  std::thread resetter([&] {
    ASSERT_TRUE(eventually([&] { return barrier.n_waiting() == 1; }));
    barrier.reset();
  });
  const auto results = run_parties(1, [&] { return barrier.wait(kPatience); });
  resetter.join();
  EXPECT_EQ(results, (std::vector<long>{-1}));
  EXPECT_FALSE(barrier.broken());
  auto again = run_parties(2, [&] { return barrier.wait(kPatience); });
  std::sort(again.begin(), again.end());
  EXPECT_EQ(again, (std::vector<long>{0, 1}));
}

}  // namespace
}  // namespace weft::test
