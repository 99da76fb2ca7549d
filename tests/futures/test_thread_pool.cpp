// weft::futures::ThreadPoolExecutor: submit, lazy named workers, initializers, shutdown, destruction and map.
#include <gtest/gtest.h>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <ranges>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "futures/futures_support.hpp"

namespace {

using namespace weft::test;
using weft::futures::Future;
using weft::futures::ThreadPoolExecutor;
namespace futures = weft::futures;

struct Oops : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- submit ----

TEST(ThreadPool, SubmitReturnsTheResult) {
  ThreadPoolExecutor pool(2);
  auto sum = pool.submit([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(sum.result(kPatience), 5);
}

TEST(ThreadPool, SubmitAVoidTask) {
  std::atomic<bool> ran{false};
  ThreadPoolExecutor pool(1);
  Future<void> f = pool.submit([&] { ran = true; });
  EXPECT_NO_THROW(f.result(kPatience));
  EXPECT_TRUE(ran);
}

TEST(ThreadPool, SubmitTakesMoveOnlyArgumentsCallablesAndResults) {
  ThreadPoolExecutor pool(1);
  auto from_argument = pool.submit([](std::unique_ptr<int> p) { return *p; }, std::make_unique<int>(3));
  auto from_capture = pool.submit([p = std::make_unique<int>(4)] { return *p; });
  auto move_only_result = pool.submit([] { return std::make_unique<int>(5); });
  EXPECT_EQ(from_argument.result(kPatience), 3);
  EXPECT_EQ(from_capture.result(kPatience), 4);
  EXPECT_EQ(*move_only_result.result(kPatience), 5);
}

TEST(ThreadPool, ArgumentsAreCopiedIn) {
  ThreadPoolExecutor pool(1);
  std::string text = "copied";
  auto f = pool.submit([](const std::string& s) { return s.size(); }, text);
  text.clear();
  EXPECT_EQ(f.result(kPatience), 6u);
}

TEST(ThreadPool, ExceptionsPropagateWithTheirType) {
  ThreadPoolExecutor pool(2);
  auto oops = pool.submit([]() -> int { throw Oops("in task"); });
  auto range = pool.submit([] { throw std::out_of_range("range"); });
  auto number = pool.submit([]() -> std::string { throw 42; });
  EXPECT_THROW(oops.result(kPatience), Oops);
  EXPECT_EQ(weft::detail::exception_text(oops.exception()), "in task");
  EXPECT_THROW(range.result(kPatience), std::out_of_range);
  try {
    number.result(kPatience);
    ADD_FAILURE() << "no exception";
  } catch (int value) {
    EXPECT_EQ(value, 42);
  }
}

TEST(ThreadPool, ARunningTaskIsRunningAndCannotBeCancelled) {
  weft::Event started;
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  auto f = pool.submit(hold_worker(started, gate));
  ASSERT_TRUE(started.wait(kPatience));
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.cancel());
  gate.set();
  EXPECT_TRUE(f.result(kPatience));
  EXPECT_FALSE(f.cancelled());
}

TEST(ThreadPool, AQueuedTaskCanBeCancelledAndNeverRuns) {
  weft::Event started;
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  auto blocker = pool.submit(hold_worker(started, gate));
  auto queued = pool.submit([&] { ++ran; });
  ASSERT_TRUE(started.wait(kPatience));
  EXPECT_FALSE(queued.running());
  EXPECT_TRUE(queued.cancel());
  gate.set();
  pool.shutdown();
  EXPECT_TRUE(blocker.done());
  EXPECT_TRUE(queued.cancelled());
  EXPECT_EQ(ran, 0);
}

TEST(ThreadPool, DoneCallbackRunsOnTheWorker) {
  weft::Event called;
  std::string ran_on;
  ThreadPoolExecutor pool(1, "cb");
  weft::Event gate;
  auto f = pool.submit([&] { gate.wait(kPatience); });
  f.add_done_callback([&](Future<void>) {
    ran_on = weft::current_thread().name();
    called.set();
  });
  gate.set();
  ASSERT_TRUE(called.wait(kPatience));
  EXPECT_EQ(ran_on, "cb_0");
}

TEST(ThreadPool, AThrowingCallbackDoesNotHurtTheWorker) {
  CallbackExceptions reported;
  ThreadPoolExecutor pool(1);
  weft::Event gate;
  auto first = pool.submit([&] { gate.wait(kPatience); });
  first.add_done_callback([](Future<void>) { throw Oops("from callback"); });
  gate.set();
  EXPECT_EQ(pool.submit([] { return 2; }).result(kPatience), 2);
  EXPECT_EQ(pool.worker_count(), 1u);
  EXPECT_EQ(reported.seen(), (std::vector<std::string>{"from callback"}));
}

// ---- workers ----

TEST(ThreadPool, DefaultMaxWorkersIsCoresPlusFourCappedAt32) {
  ThreadPoolExecutor pool;
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(pool.max_workers(), std::min<std::size_t>(32, cores + 4));
  EXPECT_EQ(ThreadPoolExecutor(0).max_workers(), pool.max_workers());
  EXPECT_EQ(ThreadPoolExecutor(3).max_workers(), 3u);
}

TEST(ThreadPool, StartsNoWorkerBeforeTheFirstSubmit) {
  ThreadPoolExecutor pool(4);
  EXPECT_EQ(pool.worker_count(), 0u);
  pool.submit([] {}).result(kPatience);
  EXPECT_EQ(pool.worker_count(), 1u);
}

TEST(ThreadPool, ABusyWorkerMakesTheNextSubmitStartAnother) {
  weft::Event gate;
  ThreadPoolExecutor pool(2);
  pool.submit([&] { gate.wait(kPatience); });
  auto second = pool.submit([] { return weft::current_thread().name(); });
  EXPECT_EQ(pool.worker_count(), 2u);
  const bool second_ran = second.wait(kPatience);
  gate.set();
  EXPECT_TRUE(second_ran) << "the second task waited for the first";
}

TEST(ThreadPool, EveryBlockedTaskGetsItsOwnWorker) {
  // Many pools and workers, because a worker's start-up races with the submit that started it.
  constexpr std::size_t kMax = 32;
  for (int round = 0; round < scaled(20); ++round) {
    weft::Event gate;
    Countdown all_running(kMax);
    ThreadPoolExecutor pool(kMax);
    std::size_t workers_after_last_submit = 0;
    for (std::size_t i = 1; i <= kMax; ++i) {
      pool.submit([&] {
        all_running.count_down();
        gate.wait(kPatience);
      });
      workers_after_last_submit = pool.worker_count();
      if (workers_after_last_submit != i) break;
    }
    const bool all_ran = workers_after_last_submit == kMax && all_running.wait();
    gate.set();
    ASSERT_EQ(workers_after_last_submit, kMax) << "round " << round << ": a submit found a busy worker idle";
    ASSERT_TRUE(all_ran) << "round " << round;
  }
}

TEST(ThreadPool, NeverStartsMoreThanMaxWorkers) {
  weft::Event gate;
  ThreadPoolExecutor pool(2);
  std::vector<Future<bool>> blockers;
  for (int i = 0; i < 6; ++i) blockers.push_back(pool.submit([&] { return gate.wait(kPatience); }));
  EXPECT_EQ(pool.worker_count(), 2u);
  gate.set();
  for (auto& f : blockers) EXPECT_TRUE(f.result(kPatience));
  EXPECT_EQ(pool.worker_count(), 2u);
}

TEST(ThreadPool, AnIdleWorkerIsReusedInsteadOfStartingAnother) {
  ThreadPoolExecutor pool(4);
  for (int round = 0; round < 5; ++round) {
    SleepProbe worker_asleep;
    pool.submit([&] { worker_asleep.arm(); }).result(kPatience);
    ASSERT_TRUE(worker_asleep.wait_asleep());
  }
  EXPECT_EQ(pool.worker_count(), 1u);
}

TEST(ThreadPool, WorkersAreNamedWithThePrefix) {
  ThreadPoolExecutor pool(1, "pool");
  EXPECT_EQ(pool.submit([] { return weft::current_thread().name(); }).result(kPatience), "pool_0");
}

TEST(ThreadPool, ConcurrentTasksRunOnDistinctNumberedWorkers) {
  Countdown all_started(3);
  ThreadPoolExecutor pool(3, "named");
  std::vector<Future<std::string>> names;
  for (int i = 0; i < 3; ++i) {
    names.push_back(pool.submit([&] {
      all_started.count_down();
      all_started.wait();
      return weft::current_thread().name();
    }));
  }
  std::set<std::string> seen;
  for (auto& f : names) {
    ASSERT_TRUE(f.wait(2 * kPatience));
    seen.insert(f.result());
  }
  EXPECT_EQ(seen, (std::set<std::string>{"named_0", "named_1", "named_2"}));
}

TEST(ThreadPool, DefaultPrefixIsThreadPoolExecutorAndACounter) {
  ThreadPoolExecutor a(1);
  ThreadPoolExecutor b(1);
  const std::string name_a = a.submit([] { return weft::current_thread().name(); }).result(kPatience);
  const std::string name_b = b.submit([] { return weft::current_thread().name(); }).result(kPatience);
  const std::regex pattern("ThreadPoolExecutor-[0-9]+_0");
  EXPECT_TRUE(std::regex_match(name_a, pattern)) << name_a;
  EXPECT_TRUE(std::regex_match(name_b, pattern)) << name_b;
  EXPECT_NE(name_a, name_b);
}

// ---- initializers ----

TEST(ThreadPool, InitializerRunsOncePerWorkerBeforeItsTasks) {
  static thread_local bool initialized = false;
  std::mutex mutex;
  std::multiset<std::string> initialized_on;
  std::atomic<int> uninitialized_runs{0};
  std::set<std::string> ran_on;
  {
    ThreadPoolExecutor pool(3, "init", [&] {
      initialized = true;
      std::lock_guard held(mutex);
      initialized_on.insert(weft::current_thread().name());
    });
    std::vector<Future<std::string>> tasks;
    for (int i = 0; i < 50; ++i) {
      tasks.push_back(pool.submit([&] {
        if (!initialized) ++uninitialized_runs;
        return weft::current_thread().name();
      }));
    }
    for (auto& f : tasks) ran_on.insert(f.result(kPatience));
    pool.shutdown();
    EXPECT_EQ(initialized_on.size(), pool.worker_count());
  }
  EXPECT_EQ(uninitialized_runs, 0);
  EXPECT_EQ(std::set<std::string>(initialized_on.begin(), initialized_on.end()).size(), initialized_on.size())
      << "an initializer ran twice on one worker";
  for (const auto& name : ran_on) EXPECT_EQ(initialized_on.count(name), 1u) << name;
}

TEST(ThreadPool, FailingInitializerBreaksThePool) {
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1, "", [] { throw Oops("no init"); });
  auto f = pool.submit([&] { ++ran; });
  ASSERT_TRUE(f.wait(kPatience));
  EXPECT_THROW(f.result(), futures::BrokenThreadPool);
  EXPECT_THROW(f.result(), futures::BrokenExecutor);
  EXPECT_THROW(pool.submit([&] { ++ran; }), futures::BrokenThreadPool);
  EXPECT_EQ(ran, 0);
}

TEST(ThreadPool, FailingInitializerFailsEveryPendingFuture) {
  weft::Event in_initializer;
  weft::Event fail_now;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1, "", [&] {
    in_initializer.set();
    fail_now.wait(kPatience);
    throw Oops("late failure");
  });
  std::vector<Future<int>> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(pool.submit([&, i] { return ++ran, i; }));
  ASSERT_TRUE(in_initializer.wait(kPatience));
  fail_now.set();
  for (auto& f : pending) {
    ASSERT_TRUE(f.wait(kPatience));
    EXPECT_THROW(f.result(), futures::BrokenThreadPool);
  }
  EXPECT_THROW(pool.submit([] { return 0; }), futures::BrokenThreadPool);
  EXPECT_EQ(ran, 0);
}

// ---- shutdown and destruction ----

TEST(ThreadPool, SubmitAfterShutdownThrowsRuntimeError) {
  ThreadPoolExecutor pool(2);
  pool.submit([] {}).result(kPatience);
  pool.shutdown();
  EXPECT_THROW(pool.submit([] {}), weft::RuntimeError);
  EXPECT_NO_THROW(pool.shutdown()) << "shutting down twice is harmless";
}

TEST(ThreadPool, SubmitAfterShutdownWithoutWaitThrowsRuntimeError) {
  ThreadPoolExecutor pool(2);
  pool.shutdown(false);
  EXPECT_THROW(pool.submit([] {}), weft::RuntimeError);
}

TEST(ThreadPool, ShutdownOfAnUnusedPoolReturnsAtOnce) {
  ThreadPoolExecutor pool(4);
  pool.shutdown();
  EXPECT_EQ(pool.worker_count(), 0u);
}

TEST(ThreadPool, ShutdownWaitsForRunningAndQueuedTasks) {
  weft::Event started;
  weft::Event gate;
  SleepProbe shutting_down;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  auto blocker = pool.submit(hold_worker(started, gate));
  std::vector<Future<void>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit([&] { ++ran; }));
  ASSERT_TRUE(started.wait(kPatience));
  weft::Thread opener([&] {
    shutting_down.wait_asleep();
    gate.set();
  });
  opener.start();
  shutting_down.arm();
  pool.shutdown(true);
  EXPECT_TRUE(blocker.done());
  for (auto& f : queued) EXPECT_TRUE(f.done());
  EXPECT_EQ(ran, 3);
  opener.join();
}

TEST(ThreadPool, ShutdownWithoutWaitReturnsWhileTasksStillRun) {
  weft::Event started;
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  auto blocker = pool.submit(hold_worker(started, gate));
  auto queued = pool.submit([] { return 7; });
  ASSERT_TRUE(started.wait(kPatience));
  pool.shutdown(false);
  EXPECT_TRUE(blocker.running());
  EXPECT_FALSE(queued.done());
  gate.set();
  EXPECT_TRUE(blocker.result(kPatience));
  EXPECT_EQ(queued.result(kPatience), 7) << "shutdown without cancel_futures still runs queued tasks";
}

TEST(ThreadPool, ShutdownCancelFuturesCancelsExactlyThePendingOnes) {
  weft::Event started;
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  auto blocker = pool.submit(hold_worker(started, gate));
  std::vector<Future<void>> pending;
  for (int i = 0; i < 5; ++i) pending.push_back(pool.submit([&] { ++ran; }));
  ASSERT_TRUE(started.wait(kPatience));
  pool.shutdown(false, true);
  for (auto& f : pending) EXPECT_TRUE(f.cancelled());
  EXPECT_FALSE(blocker.cancelled());
  EXPECT_TRUE(blocker.running());
  gate.set();
  EXPECT_TRUE(blocker.result(kPatience));
  pool.shutdown();
  EXPECT_EQ(ran, 0);
}

TEST(ThreadPool, ShutdownCancelFuturesReachesTasksSubmittedFromATask) {
  weft::Event inner_submitted;
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  std::optional<Future<void>> inner;
  auto outer = pool.submit([&] {
    inner = pool.submit([&] { ++ran; });
    inner_submitted.set();
    gate.wait(kPatience);
  });
  ASSERT_TRUE(inner_submitted.wait(kPatience));
  pool.shutdown(false, true);
  gate.set();
  pool.shutdown();
  EXPECT_TRUE(outer.done());
  EXPECT_TRUE(inner->cancelled());
  EXPECT_EQ(ran, 0);
}

TEST(ThreadPool, DestroyingWithPendingWorkRunsItAndReturns) {
  weft::Event started;
  weft::Event gate;
  SleepProbe destroying;
  std::atomic<int> ran{0};
  std::vector<Future<int>> results;
  auto pool = std::make_unique<ThreadPoolExecutor>(1);
  results.push_back(pool->submit([&] {
    started.set();
    gate.wait(kPatience);
    return 0;
  }));
  for (int i = 1; i <= 10; ++i) results.push_back(pool->submit([&, i] { return ++ran, i; }));
  ASSERT_TRUE(started.wait(kPatience));
  weft::Thread opener([&] {
    destroying.wait_asleep();
    gate.set();
  });
  opener.start();
  destroying.arm();
  pool.reset();
  opener.join();
  EXPECT_EQ(ran, 10);
  for (int i = 0; i <= 10; ++i) EXPECT_EQ(results[i].result(0ms), i);
}

TEST(ThreadPool, FuturesOutliveTheirPool) {
  Future<std::string> f;
  {
    ThreadPoolExecutor pool(2);
    f = pool.submit([] { return std::string("kept"); });
  }
  EXPECT_EQ(f.result(0ms), "kept");
}

// A task holding the executor's last reference runs its destructor on the worker, which then
// returns to its loop: it must find the pool still there, and free it on leaving.
TEST(ThreadPool, ATaskHoldingTheLastReferenceTearsThePoolDownOnItsWorker) {
  weft::Event go;
  weft::Event ran;
  std::optional<weft::ThreadHandle> worker;
  auto pool = std::make_shared<ThreadPoolExecutor>(2);
  (void)pool->submit([pool, &go, &ran, &worker] {
    go.wait(kPatience);
    worker = weft::current_thread();
    ran.set();
  });
  EXPECT_EQ(pool->submit([] { return 1; }).result(kPatience), 1);  // on a second worker
  pool.reset();
  go.set();
  ASSERT_TRUE(ran.wait(kPatience));
  EXPECT_TRUE(worker->join(kPatience)) << "the worker did not exit after freeing its pool";
}

// ---- submitting from inside a task ----

TEST(ThreadPool, ATaskCanSubmitToItsOwnPool) {
  ThreadPoolExecutor pool(1);
  auto outer = pool.submit([&] { return pool.submit([] { return 6; }); });
  Future<int> inner = outer.result(kPatience);
  EXPECT_EQ(inner.result(kPatience), 6);
}

TEST(ThreadPool, ATaskCanWaitForATaskItSubmitted) {
  ThreadPoolExecutor pool(2);
  auto outer = pool.submit([&] {
    auto inner = pool.submit([] { return 6; });
    return inner.wait(kPatience) ? inner.result() + 1 : -1;
  });
  ASSERT_TRUE(outer.wait(2 * kPatience));
  EXPECT_EQ(outer.result(), 7) << "the inner task never ran while the outer one waited for it";
}

TEST(ThreadPool, SubmitFromATaskAfterShutdownThrows) {
  weft::Event started;
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  auto outer = pool.submit([&] {
    started.set();
    gate.wait(kPatience);
    try {
      pool.submit([] {});
    } catch (const weft::RuntimeError&) {
      return true;
    }
    return false;
  });
  ASSERT_TRUE(started.wait(kPatience));
  pool.shutdown(false);
  gate.set();
  EXPECT_TRUE(outer.result(kPatience));
}

// ---- map ----

TEST(ThreadPoolMap, YieldsResultsInOrder) {
  ThreadPoolExecutor pool(4);
  std::vector<int> inputs(100);
  for (int i = 0; i < 100; ++i) inputs[i] = i;
  auto squares = pool.map([](int x) { return x * x; }, inputs).to_vector();
  ASSERT_EQ(squares.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(squares[i], i * i);
}

TEST(ThreadPoolMap, KeepsSubmissionOrderWhenLaterTasksFinishFirst) {
  weft::Event second_done;
  ThreadPoolExecutor pool(2);
  auto results = pool.map(
      [&](int x) {
        if (x == 0) second_done.wait(kPatience);
        if (x == 1) second_done.set();
        return x;
      },
      std::vector<int>{0, 1});
  EXPECT_EQ(results.to_vector(), (std::vector<int>{0, 1}));
}

TEST(ThreadPoolMap, SubmitsEveryTaskAtOnce) {
  Countdown all_ran(3);
  ThreadPoolExecutor pool(1);
  auto results = pool.map([&](int x) { return all_ran.count_down(), x; }, std::vector<int>{1, 2, 3});
  EXPECT_TRUE(all_ran.wait()) << "map() did not submit before the results were consumed";
  EXPECT_EQ(results.to_vector(), (std::vector<int>{1, 2, 3}));
}

TEST(ThreadPoolMap, YieldsEachResultAsSoonAsItIsReady) {
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  auto results = pool.map(
      [&](int x) {
        if (x == 1) gate.wait(kPatience);
        return x;
      },
      std::vector<int>{0, 1});
  EXPECT_EQ(results.next(), 0) << "the first result waited for the second";
  gate.set();
  EXPECT_EQ(results.next(), 1);
  EXPECT_EQ(results.next(), std::nullopt);
}

TEST(ThreadPoolMap, RethrowsATasksExceptionAtItsPosition) {
  ThreadPoolExecutor pool(2);
  auto results = pool.map(
      [](int x) {
        if (x == 2) throw Oops("two");
        return x;
      },
      std::vector<int>{0, 1, 2, 3});
  EXPECT_EQ(results.next(), 0);
  EXPECT_EQ(results.next(), 1);
  EXPECT_THROW(results.next(), Oops);
}

TEST(ThreadPoolMap, TimeoutThrowsTimeoutErrorCountedFromTheCall) {
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  {
    Stopwatch sw;
    auto results = pool.map(
        futures::MapOptions{.timeout = kTick},
        [&](int x) {
          ++ran;
          if (x == 1) gate.wait(kPatience);
          return x;
        },
        std::vector<int>{0, 1, 2});
    EXPECT_EQ(results.next(), 0);
    EXPECT_THROW(results.next(), futures::TimeoutError);
    EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  }
  gate.set();
  pool.shutdown();
  EXPECT_EQ(ran, 2) << "the result not consumed was not cancelled";
}

// As Python's _result_or_cancel: the result that timed out is cancelled too, so that a task
// still queued never runs.
TEST(ThreadPoolMap, TheResultThatTimedOutIsCancelledIfNotStarted) {
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  auto busy = pool.submit([&] { gate.wait(kPatience); });
  {
    auto results = pool.map(
        futures::MapOptions{.timeout = kTick},
        [&](int x) {
          ++ran;
          return x;
        },
        std::vector<int>{0, 1});
    EXPECT_THROW(results.next(), futures::TimeoutError);
  }
  gate.set();
  pool.shutdown();
  EXPECT_EQ(ran, 0) << "a timed-out task that had not started still ran";
}

TEST(ThreadPoolMap, ANegativeTimeoutCountsAsZero) {
  weft::Event gate;
  ThreadPoolExecutor pool(1);
  auto busy = pool.submit([&] { gate.wait(kPatience); });
  {
    auto results = pool.map(futures::MapOptions{.timeout = -1ms}, [](int x) { return x; }, std::vector<int>{0});
    EXPECT_THROW(results.next(), futures::TimeoutError);
  }
  gate.set();
}

TEST(ThreadPoolMap, ResultsReadyBeforeTheDeadlineAreYieldedAfterIt) {
  Countdown all_ran(2);
  ThreadPoolExecutor pool(1);
  auto results =
      pool.map(futures::MapOptions{.timeout = kTick}, [&](int x) { return all_ran.count_down(), x; }, std::vector<int>{1, 2});
  ASSERT_TRUE(all_ran.wait());
  std::this_thread::sleep_for(2 * kTick);  // past the deadline
  EXPECT_EQ(results.to_vector(), (std::vector<int>{1, 2}));
}

TEST(ThreadPoolMap, ZipsSeveralRangesToTheShortest) {
  ThreadPoolExecutor pool(2);
  const std::vector<int> a{1, 2, 3};
  const std::vector<std::string> b{"x", "yy"};
  auto results = pool.map([](int n, const std::string& s) { return std::to_string(n) + s; }, a, b);
  EXPECT_EQ(results.to_vector(), (std::vector<std::string>{"1x", "2yy"}));

  auto with_infinite = pool.map([](int n, int i) { return n * i; }, a, std::views::iota(10));
  EXPECT_EQ(with_infinite.to_vector(), (std::vector<int>{10, 22, 36}));
}

TEST(ThreadPoolMap, WorksInARangeFor) {
  ThreadPoolExecutor pool(2);
  int sum = 0;
  for (int value : pool.map([](int x) { return x + 1; }, std::vector<int>{1, 2, 3})) sum += value;
  EXPECT_EQ(sum, 9);
}

TEST(ThreadPoolMap, OfAVoidFunctionAndOfNothing) {
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(2);
  EXPECT_EQ(pool.map([&](int) { ++ran; }, std::vector<int>{1, 2, 3}).to_vector().size(), 3u);
  EXPECT_EQ(ran, 3);
  EXPECT_TRUE(pool.map([](int x) { return x; }, std::vector<int>{}).to_vector().empty());
}

TEST(ThreadPoolMap, AcceptsAChunksize) {
  ThreadPoolExecutor pool(2);
  auto results = pool.map(futures::MapOptions{.chunksize = 4}, [](int x) { return -x; }, std::vector<int>{1, 2});
  EXPECT_EQ(results.to_vector(), (std::vector<int>{-1, -2}));
}

TEST(ThreadPoolMap, DestroyingTheResultsCancelsTheUnconsumed) {
  weft::Event started;
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  {
    auto results = pool.map(
        [&](int x) {
          if (x == 1) {
            started.set();
            gate.wait(kPatience);
          }
          return ++ran, x;
        },
        std::views::iota(0, 10));
    EXPECT_EQ(results.next(), 0);
    ASSERT_TRUE(started.wait(kPatience));
  }
  gate.set();
  pool.shutdown();
  EXPECT_EQ(ran, 2);
}

TEST(ThreadPoolMap, DroppingResultsNeverIteratedLetsEveryCallRun) {
  weft::Event started;
  weft::Event gate;
  std::atomic<int> ran{0};
  ThreadPoolExecutor pool(1);
  pool.map(
      [&](int x) {
        if (x == 0) {
          started.set();
          gate.wait(kPatience);
        }
        ++ran;
      },
      std::views::iota(0, 10));
  ASSERT_TRUE(started.wait(kPatience));
  gate.set();
  pool.shutdown();
  EXPECT_EQ(ran, 10);
}

TEST(ThreadPoolMap, MovedResultsCancelOnlyOnce) {
  ThreadPoolExecutor pool(1);
  auto results = pool.map([](int x) { return x; }, std::vector<int>{4, 5});
  auto moved = std::move(results);
  EXPECT_EQ(moved.to_vector(), (std::vector<int>{4, 5}));
}

}  // namespace
