// weft::Barrier: indices, the per-round action, breaking (timeout, abort, action), reset.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

// How one wait() on a barrier ended.
enum class Outcome { passed, broken, other_error };

// Runs `parties` threads that each call body(i) and join them.
void run_parties(int parties, const std::function<void(int)>& body) {
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < parties; ++i) {
    threads.push_back(std::make_unique<weft::Thread>(body, i));
    threads.back()->start();
  }
  for (auto& t : threads) EXPECT_TRUE(t->join(kPatience * 3));
}

// Waits on the barrier (with `timeout` if given) and says how it ended.
Outcome wait_on(weft::Barrier& barrier, std::optional<std::chrono::nanoseconds> timeout = {}) {
  try {
    if (timeout) barrier.wait(*timeout); else barrier.wait();
    return Outcome::passed;
  } catch (const weft::BrokenBarrierError&) {
    return Outcome::broken;
  } catch (...) {
    return Outcome::other_error;
  }
}

TEST(Barrier, ZeroPartiesThrowsValueError) {
  EXPECT_THROW(weft::Barrier(0), weft::ValueError);
}

TEST(Barrier, ReportsItsParties) {
  weft::Barrier barrier(3);
  EXPECT_EQ(barrier.parties(), 3u);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
}

TEST(Barrier, OnePartyPassesAtOnce) {
  weft::Barrier barrier(1);
  EXPECT_EQ(barrier.wait(), 0u);
  EXPECT_EQ(barrier.wait(kTick), 0u);
}

TEST(Barrier, IndicesAreDistinctEveryRound) {
  constexpr int kParties = 4;
  constexpr int kRounds = 5;
  weft::Barrier barrier(kParties);
  std::mutex mutex;
  std::vector<std::vector<std::size_t>> indices(kRounds);
  run_parties(kParties, [&](int) {
    for (int round = 0; round < kRounds; ++round) {
      const std::size_t index = barrier.wait(kPatience);
      std::lock_guard held(mutex);
      indices[round].push_back(index);
    }
  });
  for (auto& round : indices) {
    std::sort(round.begin(), round.end());
    EXPECT_EQ(round, (std::vector<std::size_t>{0, 1, 2, 3}));
  }
}

TEST(Barrier, ActionRunsOncePerRoundBeforeAnyoneLeaves) {
  constexpr int kParties = 3;
  constexpr int kRounds = 6;
  std::atomic<int> actions{0};
  weft::Barrier barrier(kParties, [&] { ++actions; });
  std::atomic<bool> ordered{true};
  run_parties(kParties, [&](int) {
    for (int round = 0; round < kRounds; ++round) {
      barrier.wait(kPatience);
      if (actions.load() < round + 1) ordered = false;
    }
  });
  EXPECT_EQ(actions, kRounds);
  EXPECT_TRUE(ordered);
}

TEST(Barrier, NWaitingCountsWaitersAndResetsAfterARound) {
  weft::Barrier barrier(3);
  std::vector<std::future<Outcome>> waiters;
  for (int i = 0; i < 2; ++i)
    waiters.push_back(std::async(std::launch::async, [&] { return wait_on(barrier, kPatience); }));
  EXPECT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
  EXPECT_EQ(wait_on(barrier, kPatience), Outcome::passed);
  for (auto& w : waiters) EXPECT_EQ(w.get(), Outcome::passed);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());
}

// The action runs while the barrier is locked, yet may read n_waiting() and broken(), as in
// Python. The round runs on a daemon thread that owns it, so that a hang fails the test only.
TEST(Barrier, TheActionMayReadNWaitingAndBroken) {
  struct Round {
    std::size_t n_waiting = 0;
    bool broken = true;
    weft::Barrier barrier{1, [this] {
                            n_waiting = barrier.n_waiting();
                            broken = barrier.broken();
                          }};
    weft::Event done;
  };
  auto round = std::make_shared<Round>();
  weft::Thread t({.daemon = true}, [round] {
    round->barrier.wait();
    round->done.set();
  });
  t.start();
  ASSERT_TRUE(round->done.wait(kPatience));
  EXPECT_EQ(round->n_waiting, 1u);
  EXPECT_FALSE(round->broken);
}

TEST(Barrier, TimeoutBreaksTheBarrierForEveryone) {
  weft::Barrier barrier(3);
  auto patient = std::async(std::launch::async, [&] { return wait_on(barrier, kPatience * 3); });
  EXPECT_TRUE(eventually([&] { return barrier.n_waiting() == 1; }));
  Stopwatch sw;
  EXPECT_EQ(wait_on(barrier, kTick), Outcome::broken);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  ASSERT_EQ(patient.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(patient.get(), Outcome::broken);
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_EQ(wait_on(barrier, kPatience), Outcome::broken);
}

TEST(Barrier, DefaultTimeoutFromTheConstructor) {
  weft::Barrier barrier(2, {}, kTick);
  Stopwatch sw;
  EXPECT_EQ(wait_on(barrier), Outcome::broken);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(barrier.broken());
}

TEST(Barrier, ADefaultTimeoutTooLargeForNanosecondsIsNone) {
  weft::Barrier barrier(2, {}, std::chrono::hours::max());
  auto other = std::async(std::launch::async, [&] { return wait_on(barrier); });
  EXPECT_EQ(wait_on(barrier), Outcome::passed);
  ASSERT_EQ(other.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(other.get(), Outcome::passed);
}

TEST(Barrier, NegativeTimeoutCountsAsZero) {
  weft::Barrier filled(1);
  EXPECT_EQ(filled.wait(-1ms), 0u) << "the call that fills the barrier does not wait";
  weft::Barrier barrier(2);
  EXPECT_THROW(barrier.wait(-1ms), weft::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  weft::Barrier by_default(2, {}, -1ms);
  EXPECT_THROW(by_default.wait(), weft::BrokenBarrierError);
}

TEST(Barrier, AbortBreaksWaitersAndLaterCallers) {
  weft::Barrier barrier(3);
  std::vector<std::future<Outcome>> waiters;
  for (int i = 0; i < 2; ++i)
    waiters.push_back(
        std::async(std::launch::async, [&] { return wait_on(barrier, kPatience * 3); }));
  EXPECT_TRUE(eventually([&] { return barrier.n_waiting() == 2; }));
  barrier.abort();
  for (auto& w : waiters) {
    ASSERT_EQ(w.wait_for(kPatience), std::future_status::ready);
    EXPECT_EQ(w.get(), Outcome::broken);
  }
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(wait_on(barrier), Outcome::broken);
}

TEST(Barrier, ResetWakesWaitersAndMakesItUsableAgain) {
  weft::Barrier barrier(2);
  auto waiter = std::async(std::launch::async, [&] { return wait_on(barrier, kPatience * 3); });
  EXPECT_TRUE(eventually([&] { return barrier.n_waiting() == 1; }));
  barrier.reset();
  ASSERT_EQ(waiter.wait_for(kPatience), std::future_status::ready);
  EXPECT_EQ(waiter.get(), Outcome::broken);
  EXPECT_FALSE(barrier.broken());
  std::atomic<int> passed{0};
  run_parties(2, [&](int) {
    if (wait_on(barrier, kPatience) == Outcome::passed) ++passed;
  });
  EXPECT_EQ(passed, 2);
}

TEST(Barrier, ResetRepairsABrokenBarrier) {
  weft::Barrier barrier(2);
  barrier.abort();
  EXPECT_TRUE(barrier.broken());
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  std::atomic<int> passed{0};
  run_parties(2, [&](int) {
    if (wait_on(barrier, kPatience) == Outcome::passed) ++passed;
  });
  EXPECT_EQ(passed, 2);
}

TEST(Barrier, AThrowingActionPropagatesToOneAndBreaksTheOthers) {
  constexpr int kParties = 3;
  weft::Barrier barrier(kParties, [] { throw std::runtime_error("action failed"); });
  std::atomic<int> action_errors{0};
  std::atomic<int> broken{0};
  run_parties(kParties, [&](int) {
    try {
      barrier.wait(kPatience);
    } catch (const weft::BrokenBarrierError&) {
      ++broken;
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()) == "action failed") ++action_errors;
    }
  });
  EXPECT_EQ(action_errors, 1);
  EXPECT_EQ(broken, kParties - 1);
  EXPECT_TRUE(barrier.broken());
}

}  // namespace
