// Stress for weft::futures: many tiny tasks, concurrent submitters, cancel racing with start, callbacks racing with completion, shutdown racing with submit.
#include <gtest/gtest.h>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <vector>

#include "futures/futures_support.hpp"

namespace {

using namespace weft::test;
using weft::futures::Future;
using weft::futures::ThreadPoolExecutor;
namespace futures = weft::futures;

// Starts `n` weft threads running body(i) and joins them on destruction.
class Crew {
 public:
  template <class F>
  Crew(int n, F body) {
    for (int i = 0; i < n; ++i) {
      threads_.push_back(std::make_unique<weft::Thread>(body, i));
      threads_.back()->start();
    }
  }
  ~Crew() { join(); }
  void join() {
    for (auto& t : threads_) {
      if (t->is_alive()) t->join();
    }
  }

 private:
  std::vector<std::unique_ptr<weft::Thread>> threads_;
};

TEST(FuturesStress, ManyTinyTasksEachCompleteOnceWithTheirValue) {
  const int n = scaled(200'000);
  std::vector<std::atomic<std::uint8_t>> runs(n);
  std::atomic<int> callbacks{0};
  std::vector<Future<std::int64_t>> results;
  results.reserve(n);
  {
    ThreadPoolExecutor pool(4);
    for (int i = 0; i < n; ++i) {
      results.push_back(pool.submit([&runs, i] {
        runs[i].fetch_add(1, std::memory_order_relaxed);
        return std::int64_t{i} * 3;
      }));
      if (i % 8 == 0) results.back().add_done_callback([&](Future<std::int64_t>) { ++callbacks; });
    }
    EXPECT_LE(pool.worker_count(), 4u);
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(results[i].done()) << i;
    ASSERT_EQ(results[i].result(), std::int64_t{i} * 3) << i;
    ASSERT_EQ(runs[i].load(), 1) << i;
  }
  EXPECT_EQ(callbacks, (n + 7) / 8);
}

TEST(FuturesStress, ManyThreadsSubmittingAtOnce) {
  constexpr int kSubmitters = 8;
  const int per_submitter = scaled(10'000);
  std::atomic<std::int64_t> ran{0};
  std::atomic<int> wrong{0};
  ThreadPoolExecutor pool(4);
  {
    Crew submitters(kSubmitters, [&](int s) {
      std::vector<Future<int>> mine;
      mine.reserve(per_submitter);
      for (int i = 0; i < per_submitter; ++i) {
        mine.push_back(pool.submit([&ran](int x) { return ++ran, x; }, s * per_submitter + i));
      }
      for (int i = 0; i < per_submitter; ++i) {
        if (mine[i].result(kPatience) != s * per_submitter + i) ++wrong;
      }
    });
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(ran, std::int64_t{kSubmitters} * per_submitter);
}

TEST(FuturesStress, CancelRacingWithStartEndsOneWayOrTheOther) {
  const int n = scaled(50'000);
  std::vector<std::atomic<std::uint8_t>> runs(n);
  std::vector<std::uint8_t> cancel_succeeded(n, 0);
  std::vector<Future<int>> results;
  results.reserve(n);
  weft::Event go;
  {
    ThreadPoolExecutor pool(4);
    Crew canceller(1, [&](int) {
      if (!go.wait(kPatience)) return;
      for (int i = n - 1; i >= 0; --i) cancel_succeeded[i] = results[i].cancel();
    });
    for (int i = 0; i < n; ++i) {
      results.push_back(pool.submit([&runs, i] { return runs[i].fetch_add(1, std::memory_order_relaxed), i; }));
    }
    go.set();
  }
  int cancelled = 0;
  for (int i = 0; i < n; ++i) {
    const bool ran = runs[i].load() == 1;
    ASSERT_LE(runs[i].load(), 1) << i;
    ASSERT_TRUE(results[i].done()) << i;
    ASSERT_NE(results[i].cancelled(), ran) << i << ": cancelled and ran, or neither";
    ASSERT_EQ(cancel_succeeded[i] != 0, results[i].cancelled()) << i;
    if (ran) {
      ASSERT_EQ(results[i].result(), i);
    } else {
      ++cancelled;
    }
  }
  RecordProperty("cancelled", cancelled);
}

TEST(FuturesStress, CallbacksRacingWithCompletionRunExactlyOnce) {
  const int n = scaled(50'000);
  std::vector<std::atomic<std::uint8_t>> calls(n);
  {
    ThreadPoolExecutor pool(4);
    for (int i = 0; i < n; ++i) {
      auto f = pool.submit([i] { return i; });
      f.add_done_callback([&calls](Future<int> done) { calls[done.result()].fetch_add(1); });
    }
  }
  for (int i = 0; i < n; ++i) ASSERT_EQ(calls[i].load(), 1) << i;
}

TEST(FuturesStress, ThenChainsAcrossTheWorkers) {
  const int n = scaled(20'000);
  std::vector<Future<int>> tails;
  tails.reserve(n);
  ThreadPoolExecutor pool(4);
  for (int i = 0; i < n; ++i) {
    tails.push_back(pool.submit([i] { return i; }).then([](int x) { return x + 1; }).then([](int x) { return x * 2; }));
  }
  auto all = futures::when_all(tails);
  ASSERT_TRUE(all.wait(kPatience));
  for (int i = 0; i < n; ++i) ASSERT_EQ(tails[i].result(), (i + 1) * 2) << i;
}

TEST(FuturesStress, AsCompletedAndWaitSeeEveryCompletionOnce) {
  const int n = scaled(10'000);
  ThreadPoolExecutor pool(4);
  std::vector<Future<int>> fs;
  fs.reserve(n);
  for (int i = 0; i < n; ++i) fs.push_back(pool.submit([i] { return i; }));
  std::set<int> seen;
  for (const auto& f : futures::as_completed(fs, kPatience)) {
    EXPECT_TRUE(seen.insert(f.result()).second) << "yielded twice: " << f.result();
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(n));
  auto [done, not_done] = futures::wait(fs, kPatience);
  EXPECT_EQ(done.size(), static_cast<std::size_t>(n));
  EXPECT_TRUE(not_done.empty());
}

TEST(FuturesStress, ShutdownRacingWithSubmittersLeavesNothingUndone) {
  constexpr int kSubmitters = 4;
  const int submissions_before_shutdown = scaled(20'000);
  Countdown enough(submissions_before_shutdown);
  std::vector<std::vector<Future<int>>> submitted(kSubmitters);
  std::atomic<int> refused{0};
  ThreadPoolExecutor pool(4);
  {
    Crew submitters(kSubmitters, [&](int s) {
      for (int i = 0;; ++i) {
        try {
          submitted[s].push_back(pool.submit([i] { return i; }));
        } catch (const weft::RuntimeError&) {
          ++refused;
          return;
        }
        enough.count_down();
      }
    });
    EXPECT_TRUE(enough.wait());
    pool.shutdown(true, true);
  }
  EXPECT_EQ(refused, kSubmitters);
  for (const auto& mine : submitted) {
    for (std::size_t i = 0; i < mine.size(); ++i) {
      ASSERT_TRUE(mine[i].done());
      if (!mine[i].cancelled()) {
        ASSERT_EQ(mine[i].result(), static_cast<int>(i));
      }
    }
  }
}

// A task submitted while the only worker is idle, just before shutdown(wait=true), runs before
// shutdown() returns. The race is a few instructions wide, so it is repeated for a while.
TEST(FuturesStress, ATaskSubmittedJustBeforeShutdownRuns) {
  long rounds = 0;
  long lost = 0;
  for (const auto until = Clock::now() + 2s; lost == 0 && Clock::now() < until; ++rounds) {
    ThreadPoolExecutor pool(1);
    pool.submit([] {}).result(kPatience);
    auto last = pool.submit([] { return 7; });
    pool.shutdown(true);
    if (!last.done()) ++lost;
  }
  EXPECT_EQ(lost, 0) << "shutdown(wait=true) left a task pending, after " << rounds << " rounds";
}

}  // namespace
