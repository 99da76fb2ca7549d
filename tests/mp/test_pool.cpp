// mp::Pool: every call, its results, errors, callbacks and lifetime.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mp/pool_support.hpp"
#include "weft/futures/errors.hpp"
#include "weft/futures/future.hpp"
#include "weft/mp/connection.hpp"
#include "weft/mp/event.hpp"
#include "weft/mp/pool.hpp"

namespace {

using namespace pool_test;
using weft::mp::AsyncResult;
using weft::mp::Pool;
using weft::mp::PoolOptions;
using Clock = std::chrono::steady_clock;

// A Lock reaches a process only by inheritance, never as a task's argument (as in Python).
int take_lock(weft::mp::Lock) { return 0; }

std::vector<int> range(int n) {
  std::vector<int> xs(static_cast<std::size_t>(n));
  std::iota(xs.begin(), xs.end(), 0);
  return xs;
}

TEST(Pool, ApplyReturnsTheResult) {
  Pool pool(2);
  EXPECT_EQ(pool.processes(), 2u);
  EXPECT_EQ(pool.apply(square, std::tuple{7}), 49);
  EXPECT_EQ(pool.apply(add, std::tuple{2, 40}), 42);
  EXPECT_EQ(pool.apply(greet, std::tuple{"pool"}), "hello pool");
  EXPECT_EQ(pool.apply(
                +[](int x) { return x - 1; }, std::tuple{1}),
            0);
  pool.apply(nothing);
}

TEST(Pool, ApplyAsyncGetWaitReadySuccessful) {
  Pool pool(2);
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 200; ++i) results.push_back(pool.apply_async(square, std::tuple{i}));
  for (int i = 0; i < 200; ++i) EXPECT_EQ(results[i].get(generous), i * i);
  EXPECT_TRUE(results[0].ready());
  EXPECT_TRUE(results[0].successful());
  auto slow = pool.apply_async(sleep_ms, std::tuple{300});
  EXPECT_FALSE(slow.ready());
  EXPECT_THROW(slow.successful(), weft::ValueError);
  EXPECT_THROW(slow.get(1ms), weft::TimeoutError);
  EXPECT_FALSE(slow.wait(1ms));
  slow.wait();
  EXPECT_TRUE(slow.ready());
  EXPECT_EQ(slow.get(), 300);
  auto failed = pool.apply_async(fail_value, std::tuple{1});
  EXPECT_TRUE(failed.wait(generous));
  EXPECT_FALSE(failed.successful());
}

// Set by the parent once it has the first result; the workers inherit it.
weft::mp::Event* first_result_seen = nullptr;
bool wait_for_first_result(int) { return first_result_seen->wait(60s); }

TEST(Pool, AnAnswerIsNotHeldBackWhileTheNextTaskRuns) {
  weft::mp::Event seen;
  first_result_seen = &seen;
  Pool pool(1);
  auto first = pool.apply_async(square, std::tuple{3});
  auto second = pool.apply_async(wait_for_first_result, std::tuple{0});
  ASSERT_TRUE(first.wait(generous));
  EXPECT_EQ(first.get(), 9);
  seen.set();
  EXPECT_TRUE(second.get(generous));
  pool.close();
  pool.join();
}

TEST(Pool, ExceptionsKeepTheirTypeAndMessage) {
  Pool pool(2);
  try {
    pool.apply(fail_runtime, std::tuple{3});
    FAIL() << "no exception";
  } catch (const std::runtime_error& error) {
    EXPECT_STREQ(error.what(), "bad item 3");
  }
  EXPECT_THROW(pool.apply(fail_value, std::tuple{1}), weft::ValueError);
  try {
    pool.apply(fail_user, std::tuple{1});
    FAIL() << "no exception";
  } catch (const weft::mp::RemoteError& error) {
    EXPECT_NE(error.type_name().find("UserError"), std::string::npos) << error.type_name();
    EXPECT_EQ(error.message(), "a user error");
  }
}

TEST(Pool, UnencodableResultFailsOnlyThatTask) {
  Pool pool(1);
  EXPECT_THROW(pool.apply(unencodable, std::tuple{1}), weft::codec::EncodeError);
  EXPECT_EQ(pool.apply(square, std::tuple{3}), 9);
}

TEST(Pool, UnencodableArgumentThrowsAtOnce) {
  Pool pool(1);
  weft::mp::Lock lock;
  EXPECT_THROW(pool.apply_async(take_lock, std::tuple{lock}), weft::codec::EncodeError);
  EXPECT_EQ(pool.apply(square, std::tuple{4}), 16);
}

TEST(Pool, CallbacksRunOnThePoolThreadBeforeReady) {
  Pool pool(2);
  std::mutex mutex;
  std::vector<int> seen;
  std::set<std::thread::id> threads;
  std::atomic<int> errors{0};
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 50; ++i) {
    results.push_back(pool.apply_async(
        fail_runtime, std::tuple{i},
        [&](const int& value) {
          std::lock_guard lock(mutex);
          seen.push_back(value);
          threads.insert(std::this_thread::get_id());
        },
        [&](std::exception_ptr error) {
          try {
            std::rethrow_exception(error);
          } catch (const std::runtime_error&) {
            ++errors;
          }
          std::lock_guard lock(mutex);
          threads.insert(std::this_thread::get_id());
        }));
  }
  for (auto& result : results) result.wait();
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen.size() + static_cast<std::size_t>(errors.load()), 50u);
  EXPECT_EQ(errors.load(), 17);  // 0, 3, ..., 48
  EXPECT_EQ(threads.size(), 1u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
}

TEST(Pool, CallbackExceptionIsReportedAndThePoolGoesOn) {
  std::atomic<int> reported{0};
  auto previous = weft::futures::set_callback_exception_handler([&](std::exception_ptr) { ++reported; });
  {
    Pool pool(1);
    auto result =
        pool.apply_async(square, std::tuple{2}, [](const int&) { throw std::runtime_error("callback"); });
    EXPECT_EQ(result.get(generous), 4);
    EXPECT_EQ(pool.apply(square, std::tuple{5}), 25);
  }
  weft::futures::set_callback_exception_handler(std::move(previous));
  EXPECT_EQ(reported.load(), 1);
}

TEST(Pool, BlockingInACallbackThrowsRuntimeError) {
  Pool pool(2);
  auto slow = pool.apply_async(sleep_ms, std::tuple{500});
  std::atomic<int> outcome{0};
  auto result = pool.apply_async(square, std::tuple{1}, [&](const int&) {
    try {
      slow.get();
      outcome = 1;
    } catch (const weft::RuntimeError&) {
      outcome = 2;
    }
  });
  result.get(generous);
  EXPECT_EQ(outcome.load(), 2);
}

TEST(Pool, MapKeepsOrderWithAnyChunksize) {
  Pool pool(2);
  const auto xs = range(1000);
  for (std::optional<std::size_t> chunksize :
       {std::optional<std::size_t>{}, std::optional<std::size_t>{1}, std::optional<std::size_t>{7},
        std::optional<std::size_t>{5000}}) {
    auto squares = pool.map(square, xs, chunksize);
    ASSERT_EQ(squares.size(), xs.size());
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(squares[i], i * i);
  }
  EXPECT_TRUE(pool.map(square, std::vector<int>{}).empty());
  std::vector<std::string> names{"a", "b"};
  EXPECT_EQ(pool.map(greet, names), (std::vector<std::string>{"hello a", "hello b"}));
  EXPECT_THROW(pool.map(square, xs, 0), weft::ValueError);
}

TEST(Pool, MapAsyncWithCallback) {
  Pool pool(2);
  std::atomic<std::size_t> size{0};
  auto result =
      pool.map_async(square, range(100), 10, [&](const std::vector<int>& all) { size = all.size(); });
  EXPECT_EQ(result.get(generous).back(), 99 * 99);
  EXPECT_EQ(size.load(), 100u);
}

TEST(Pool, MapRaisesTheFirstFailure) {
  Pool pool(2);
  std::atomic<int> errors{0};
  auto result = pool.map_async(fail_runtime, range(30), 5, weft::mp::detail::NoCallback{},
                               [&](std::exception_ptr) { ++errors; });
  EXPECT_THROW(result.get(generous), std::runtime_error);
  EXPECT_EQ(errors.load(), 1);
}

TEST(Pool, StarmapAndStarmapAsync) {
  Pool pool(2);
  std::vector<std::tuple<long, long>> pairs;
  for (long i = 0; i < 100; ++i) pairs.emplace_back(i, 2 * i);
  auto sums = pool.starmap(add, pairs, 9);
  for (long i = 0; i < 100; ++i) EXPECT_EQ(sums[i], 3 * i);
  EXPECT_EQ(pool.starmap_async(add, pairs).get(generous).size(), 100u);
}

TEST(Pool, ImapStreamsInOrder) {
  Pool pool(2);
  auto results = pool.imap(sleep_ms, std::vector<int>{10, 1500, 20});
  const auto start = Clock::now();
  EXPECT_EQ(results.next(generous), 10);
  EXPECT_LT(Clock::now() - start, 1000ms);  // before the 1.5 s task is done
  EXPECT_EQ(results.next(generous), 1500);
  EXPECT_EQ(results.next(generous), 20);
  EXPECT_EQ(results.next(), std::nullopt);
  int i = 0;
  for (int s : pool.imap(square, range(500), 7)) {
    EXPECT_EQ(s, i * i);
    ++i;
  }
  EXPECT_EQ(i, 500);
}

TEST(Pool, ImapNextTimesOut) {
  Pool pool(1);
  auto results = pool.imap(sleep_ms, std::vector<int>{400});
  EXPECT_THROW(results.next(1ms), weft::TimeoutError);
  EXPECT_EQ(results.next(generous), 400);
}

TEST(Pool, ImapRaisesAtThePositionAndGoesOn) {
  Pool pool(2);
  auto results = pool.imap(fail_runtime, std::vector<int>{1, 3, 4}, 2);
  EXPECT_EQ(results.next(generous), 1);
  EXPECT_THROW(results.next(generous), std::runtime_error);
  EXPECT_EQ(results.next(generous), 4);
  EXPECT_EQ(results.next(generous), std::nullopt);
}

TEST(Pool, ImapUnorderedYieldsInCompletionOrder) {
  Pool pool(2);
  std::vector<int> order;
  for (int ms : pool.imap_unordered(sleep_ms, std::vector<int>{800, 10})) order.push_back(ms);
  EXPECT_EQ(order, (std::vector<int>{10, 800}));
  std::multiset<int> all;
  for (int s : pool.imap_unordered(square, range(300), 4)) all.insert(s);
  EXPECT_EQ(all.size(), 300u);
  EXPECT_EQ(*all.rbegin(), 299 * 299);
}

TEST(Pool, InitializerRunsOncePerWorker) {
  Pool pool(PoolOptions{.processes = 2}, initialize, 42);
  for (auto [times, value] : pool.map(initialized, range(20), 1)) {
    EXPECT_EQ(times, 1);
    EXPECT_EQ(value, 42);
  }
}

TEST(Pool, FailingInitializerBreaksThePool) {
  Pool pool(PoolOptions{.processes = 2}, initialize_fails, 0);
  try {
    // Fails from get(), or from apply_async() once the pool knows it broke.
    pool.apply_async(square, std::tuple{2}).get(generous);
    FAIL() << "no exception";
  } catch (const weft::futures::BrokenProcessPool& error) {
    EXPECT_NE(std::string(error.what()).find("cannot initialize"), std::string::npos) << error.what();
  }
  EXPECT_THROW(pool.apply_async(square, std::tuple{2}), weft::futures::BrokenProcessPool);
}

TEST(Pool, AnInitializerThatCrashesBreaksThePoolInsteadOfRespawningForever) {
  Pool pool(PoolOptions{.processes = 2}, +[](int) { std::abort(); }, 0);
  try {
    pool.apply_async(square, std::tuple{2}).get(generous);
    FAIL() << "no exception";
  } catch (const weft::futures::BrokenProcessPool& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("died in it"), std::string::npos) << what;
    EXPECT_NE(what.find("SIGABRT"), std::string::npos) << what;
  }
  EXPECT_THROW(pool.apply_async(square, std::tuple{2}), weft::futures::BrokenProcessPool);
}

TEST(Pool, MaxTasksPerChildReplacesWorkers) {
  Pool pool(PoolOptions{.processes = 1, .maxtasksperchild = 2});
  std::vector<int> pids;
  for (int i = 0; i < 6; ++i) pids.push_back(pool.apply(pid_of, std::tuple{i}));
  EXPECT_EQ(pids[0], pids[1]);
  EXPECT_NE(pids[1], pids[2]);
  EXPECT_EQ(pids[2], pids[3]);
  EXPECT_NE(pids[3], pids[4]);
  EXPECT_EQ(std::set<int>(pids.begin(), pids.end()).size(), 3u);
  EXPECT_THROW(Pool(PoolOptions{.processes = 1, .maxtasksperchild = 0}), weft::ValueError);
  EXPECT_THROW(Pool(PoolOptions{.processes = 0}), weft::ValueError);
}

TEST(Pool, LongTasksStayBalanced) {
  // Python's Pool(3) runs ten such tasks in four rounds.
  Pool pool(3);
  const auto start = Clock::now();
  pool.map(sleep_ms, std::vector<int>(10, 200), 1);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 780ms);
  EXPECT_LT(took, 1500ms);
}

TEST(Pool, CloseThenJoinFinishesEverything) {
  Pool pool(2);
  EXPECT_THROW(pool.join(), weft::ValueError);
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 20; ++i) results.push_back(pool.apply_async(sleep_ms, std::tuple{10}));
  pool.close();
  EXPECT_THROW(pool.apply_async(square, std::tuple{1}), weft::ValueError);
  EXPECT_THROW(pool.map(square, range(3)), weft::ValueError);
  pool.join();
  for (auto& result : results) EXPECT_TRUE(result.ready());
}

TEST(Pool, TerminateFailsWhatIsNotDone) {
  Pool pool(2);
  auto running = pool.apply_async(sleep_ms, std::tuple{20000});
  std::vector<AsyncResult<int>> queued;
  for (int i = 0; i < 10; ++i) queued.push_back(pool.apply_async(sleep_ms, std::tuple{20000}));
  const auto start = Clock::now();
  pool.terminate();
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_THROW(running.get(generous), weft::CancelledError);
  for (auto& result : queued) EXPECT_THROW(result.get(generous), weft::CancelledError);
  EXPECT_THROW(pool.apply_async(square, std::tuple{1}), weft::ValueError);
  pool.join();
}

TEST(Pool, DestructorTerminatesUnlessClosed) {
  const auto start = Clock::now();
  std::optional<AsyncResult<int>> result;
  {
    Pool pool(1);
    result = pool.apply_async(sleep_ms, std::tuple{20000});
  }
  EXPECT_LT(Clock::now() - start, 5s);
  EXPECT_THROW(result->get(), weft::CancelledError);
  {
    Pool pool(1);
    result = pool.apply_async(sleep_ms, std::tuple{50});
    pool.close();
  }
  EXPECT_EQ(result->get(), 50);
}

TEST(Pool, JoinAndTerminateFromSeveralThreadsAtOnce) {
  for (int round = 0; round < 3; ++round) {
    Pool pool(1);
    auto running = pool.apply_async(sleep_ms, std::tuple{20000});
    pool.close();
    std::atomic<int> joined{0};
    std::vector<std::thread> joiners;
    for (int i = 0; i < 2; ++i)
      joiners.emplace_back([&] {
        pool.join();
        ++joined;
      });
    pool.terminate();
    for (auto& joiner : joiners) joiner.join();
    EXPECT_EQ(joined.load(), 2);
    EXPECT_THROW(running.get(generous), weft::CancelledError);
  }
}

bool reaped(int pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

TEST(Pool, AnotherPoolTerminatedAndDestroyedInACallback) {
  auto other = std::make_shared<Pool>(1);
  const int worker = other->apply(pid_of, std::tuple{0});
  Pool pool(1);
  bool worker_reaped = false;
  auto result = pool.apply_async(square, std::tuple{2}, [&](const int&) {
    other->terminate();
    worker_reaped = reaped(worker);
    other.reset();
  });
  EXPECT_EQ(result.get(generous), 4);
  EXPECT_TRUE(worker_reaped);
  EXPECT_EQ(other, nullptr);
}

TEST(Pool, DestroyedInItsOwnCallback) {
  auto pool = std::make_shared<Pool>(1);
  const int worker = pool->apply(pid_of, std::tuple{0});
  auto result = pool->apply_async(square, std::tuple{2}, [&pool](const int&) { pool.reset(); });
  EXPECT_EQ(result.get(generous), 4);
  EXPECT_EQ(pool, nullptr);
  const auto deadline = Clock::now() + generous;
  while (!reaped(worker) && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(reaped(worker));
}

class PoolStartMethod : public testing::TestWithParam<const char*> {};

TEST_P(PoolStartMethod, RunsTasksInitializersAndSurvivesDeath) {
  Pool pool(PoolOptions{.processes = 2, .context = weft::mp::get_context(GetParam())}, initialize, 7);
  EXPECT_EQ(pool.apply(square, std::tuple{9}), 81);
  EXPECT_EQ(pool.map(square, range(100), 10)[99], 99 * 99);
  EXPECT_EQ(pool.apply(initialized, std::tuple{0}), std::pair(1, 7));
  EXPECT_THROW(pool.apply(die_at, std::tuple{1, 1, 0}), weft::mp::WorkerLostError);
  EXPECT_EQ(pool.apply(greet, std::tuple{"again"}), "hello again");
}

// Python's Pool(n, initializer=init, initargs=(lock, queue, value)): the
// objects reach every worker by inheritance, the replacements that
// maxtasksperchild starts included.
TEST_P(PoolStartMethod, InitializerArgumentsReachEveryWorkerByInheritance) {
  weft::mp::Lock lock;
  weft::mp::Queue<int> pids;
  weft::mp::Value<int> started(0, false);
  std::vector<int> ran;
  {
    Pool pool(PoolOptions{.processes = 2, .maxtasksperchild = 1, .context = weft::mp::get_context(GetParam())},
              initialize_shared, lock, pids, started);
    ran = pool.map(pid_on_initializer_queue, range(4), 1);
    pool.close();
    pool.join();
  }
  const InitializerTrace trace = read_initializer_trace(pids, started.value(), 4);
  EXPECT_EQ(trace.initialized.size(), static_cast<std::size_t>(started.value()));
  EXPECT_EQ(std::set<int>(ran.begin(), ran.end()).size(), 4u) << "each worker runs one task";
  EXPECT_EQ(trace.ran_tasks, std::multiset<int>(ran.begin(), ran.end()));
  for (const int pid : ran) EXPECT_TRUE(trace.initialized.contains(pid)) << pid << " ran no initializer";
}

INSTANTIATE_TEST_SUITE_P(Methods, PoolStartMethod, testing::Values("fork", "spawn", "forkserver"));

}  // namespace
