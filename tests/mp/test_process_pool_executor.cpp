// futures::ProcessPoolExecutor: submit, map, shutdown, terminate and kill,
// initializers, and worker death failing only its future.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mp/pool_support.hpp"
#include "weft/futures/errors.hpp"
#include "weft/futures/process_pool_executor.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/remote_error.hpp"

namespace {

using namespace pool_test;
using weft::futures::BrokenProcessPool;
using weft::futures::Future;
using weft::futures::MapOptions;
using weft::futures::ProcessPoolExecutor;
using weft::futures::ProcessPoolOptions;
using Clock = std::chrono::steady_clock;

TEST(ProcessPoolExecutor, SubmitAndDoneCallbacks) {
  ProcessPoolExecutor executor(2);
  EXPECT_EQ(executor.max_workers(), 2u);
  Future<long> sum = executor.submit(add, 40, 2);
  EXPECT_EQ(sum.result(generous), 42);
  std::atomic<int> called{0};
  std::thread::id callback_thread;
  Future<int> f = executor.submit(sleep_ms, 50);
  f.add_done_callback([&](Future<int> done) {
    callback_thread = std::this_thread::get_id();
    called = done.result();
  });
  f.result(generous);
  executor.shutdown();
  EXPECT_EQ(called.load(), 50);
  EXPECT_NE(callback_thread, std::this_thread::get_id());
  Future<void> none = ProcessPoolExecutor(1).submit(nothing);
  none.result(generous);
}

TEST(ProcessPoolExecutor, ExceptionsKeepTheirType) {
  ProcessPoolExecutor executor(2);
  EXPECT_THROW(executor.submit(fail_value, 1).result(generous), weft::ValueError);
  EXPECT_THROW(executor.submit(fail_user, 1).result(generous), weft::mp::RemoteError);
  EXPECT_THROW(executor.submit(unencodable, 1).result(generous), weft::codec::EncodeError);
  EXPECT_EQ(executor.submit(square, 3).result(generous), 9);
}

TEST(ProcessPoolExecutor, MapWithAndWithoutChunks) {
  ProcessPoolExecutor executor(2);
  std::vector<int> xs{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(executor.map(square, xs).to_vector(), (std::vector<int>{1, 4, 9, 16, 25, 36, 49}));
  EXPECT_EQ(executor.map(MapOptions{.chunksize = 3}, square, xs).to_vector(),
            (std::vector<int>{1, 4, 9, 16, 25, 36, 49}));
  std::vector<long> as{1, 2}, bs{10, 20, 30};
  EXPECT_EQ(executor.map(MapOptions{.chunksize = 2}, add, as, bs).to_vector(), (std::vector<long>{11, 22}));
  auto failing = executor.map(MapOptions{.chunksize = 2}, fail_runtime, std::vector<int>{1, 3, 4});
  EXPECT_EQ(failing.next(), 1);
  EXPECT_THROW(failing.next(), std::runtime_error);
  EXPECT_EQ(failing.next(), 4);
}

TEST(ProcessPoolExecutor, InitializerAndItsFailure) {
  {
    ProcessPoolExecutor executor(ProcessPoolOptions{.max_workers = 2}, initialize, 5);
    EXPECT_EQ(executor.submit(initialized, 0).result(generous), std::pair(1, 5));
  }
  ProcessPoolExecutor executor(ProcessPoolOptions{.max_workers = 2}, initialize_fails, 0);
  // Fails from result(), or from submit() once the executor knows it broke.
  EXPECT_THROW(executor.submit(square, 1).result(generous), BrokenProcessPool);
  EXPECT_THROW(executor.submit(square, 1), BrokenProcessPool);
}

class ExecutorStartMethod : public testing::TestWithParam<const char*> {};

// initargs = (lock, queue, value) reach every worker by inheritance, the
// replacements that max_tasks_per_child starts included.
TEST_P(ExecutorStartMethod, InitializerArgumentsReachEveryWorkerByInheritance) {
  weft::mp::Lock lock;
  weft::mp::Queue<int> pids;
  weft::mp::Value<int> started(0, false);
  std::vector<int> ran;
  {
    ProcessPoolExecutor executor(ProcessPoolOptions{.max_workers = 2,
                                                    .mp_context = weft::mp::get_context(GetParam()),
                                                    .max_tasks_per_child = 1},
                                 initialize_shared, lock, pids, started);
    for (int i = 0; i < 4; ++i) ran.push_back(executor.submit(pid_on_initializer_queue, i).result(generous));
  }
  const InitializerTrace trace = read_initializer_trace(pids, started.value(), 4);
  EXPECT_EQ(trace.initialized.size(), static_cast<std::size_t>(started.value()));
  EXPECT_EQ(std::set<int>(ran.begin(), ran.end()).size(), 4u) << "each worker runs one task";
  EXPECT_EQ(trace.ran_tasks, std::multiset<int>(ran.begin(), ran.end()));
  for (const int pid : ran) EXPECT_TRUE(trace.initialized.contains(pid)) << pid << " ran no initializer";
}

INSTANTIATE_TEST_SUITE_P(Methods, ExecutorStartMethod, testing::Values("fork", "spawn", "forkserver"));

TEST(ProcessPoolExecutor, MaxTasksPerChild) {
  ProcessPoolExecutor executor(ProcessPoolOptions{.max_workers = 1, .max_tasks_per_child = 1});
  std::set<int> pids;
  for (int i = 0; i < 3; ++i) pids.insert(executor.submit(pid_of, i).result(generous));
  EXPECT_EQ(pids.size(), 3u);
  EXPECT_THROW(ProcessPoolExecutor(ProcessPoolOptions{.max_tasks_per_child = 0}), weft::ValueError);
  EXPECT_THROW(ProcessPoolExecutor(0), weft::ValueError);
}

TEST(ProcessPoolExecutor, ShutdownRefusesNewWorkAndCancelsOnRequest) {
  ProcessPoolExecutor executor(1);
  Future<int> running = executor.submit(sleep_ms, 300);
  EXPECT_EQ(executor.submit(square, 2).result(generous), 4);  // both were dispatched, in order
  std::vector<Future<int>> later;
  for (int i = 0; i < 2000; ++i) later.push_back(executor.submit(sleep_ms, 1));
  executor.shutdown(true, true);
  EXPECT_EQ(running.result(), 300);
  int cancelled = 0;
  for (auto& f : later) cancelled += f.cancelled() ? 1 : 0;
  EXPECT_GT(cancelled, 1000);
  EXPECT_THROW(executor.submit(square, 1), weft::RuntimeError);
}

// submit() and map() racing shutdown() on another thread fail with the
// executor's RuntimeError, never with an error of the pool underneath.
TEST(ProcessPoolExecutor, SubmitRacingShutdownRaisesRuntimeError) {
  for (int round = 0; round < 20; ++round) {
    ProcessPoolExecutor executor(1);
    std::atomic<bool> submitted{false};
    std::string wrong_error;
    std::thread submitter([&] {
      try {
        for (;;) {
          executor.submit(square, 1);
          executor.map(MapOptions{.chunksize = 2}, square, std::vector<int>{1, 2, 3});
          submitted = true;
        }
      } catch (const weft::RuntimeError&) {
      } catch (const std::exception& error) {
        wrong_error = error.what();
      }
      submitted = true;
    });
    while (!submitted) std::this_thread::yield();
    executor.shutdown(false);
    submitter.join();
    ASSERT_EQ(wrong_error, "") << "round " << round;
  }
}

TEST(ProcessPoolExecutor, CancelledFuturesNeverRun) {
  ProcessPoolExecutor executor(1);
  Future<int> blocker = executor.submit(sleep_ms, 200);
  std::vector<Future<int>> queued;
  for (int i = 0; i < 200; ++i) queued.push_back(executor.submit(sleep_ms, 1));
  int cancelled = 0;
  for (auto& f : queued) cancelled += f.cancel() ? 1 : 0;
  EXPECT_GT(cancelled, 0);
  for (auto& f : queued) {
    if (f.cancelled())
      EXPECT_THROW(f.result(generous), weft::CancelledError);
    else
      EXPECT_EQ(f.result(generous), 1);
  }
}

TEST(ProcessPoolExecutor, TerminateAndKillWorkers) {
  for (bool kill : {false, true}) {
    ProcessPoolExecutor executor(2);
    std::vector<Future<int>> futures;
    for (int i = 0; i < 6; ++i) futures.push_back(executor.submit(sleep_ms, 20000));
    const auto start = Clock::now();
    if (kill)
      executor.kill_workers();
    else
      executor.terminate_workers();
    EXPECT_LT(Clock::now() - start, 5s);
    for (auto& f : futures) EXPECT_THROW(f.result(generous), BrokenProcessPool);
    EXPECT_THROW(executor.submit(square, 1), weft::RuntimeError);
  }
}

TEST(ProcessPoolExecutor, WorkerDeathFailsOnlyItsFuture) {
  ProcessPoolExecutor executor(
      ProcessPoolOptions{.max_workers = 2, .mp_context = weft::mp::get_context("spawn")});
  std::vector<Future<int>> futures;
  for (int i = 0; i < 30; ++i) futures.push_back(executor.submit(die_at, i, 11, 0));
  for (int i = 0; i < 30; ++i) {
    if (i == 11)
      EXPECT_THROW(futures[i].result(generous), weft::mp::WorkerLostError);
    else
      EXPECT_EQ(futures[i].result(generous), i);
  }
  EXPECT_EQ(executor.submit(square, 6).result(generous), 36);
}

// Blocks until a byte arrives on `fd` (a pipe the test holds), then dies.
int die_when_told(int fd) {
  char byte;
  while (::read(fd, &byte, 1) < 0 && errno == EINTR) {
  }
  ::kill(::getpid(), SIGKILL);
  return 0;
}

// A worker that dies puts back the tasks it held but never ran; their
// futures are already running, so shutdown(cancel_futures) leaves them to
// run again and complete (here it is called from the done-callback of the
// future the death failed, after the putting back).
TEST(ProcessPoolExecutor, CancelFuturesAfterAWorkerDiedCompletesTheRunningOnes) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  {
    ProcessPoolExecutor executor(
        ProcessPoolOptions{.max_workers = 1, .mp_context = weft::mp::get_context("fork")});
    Future<int> dying = executor.submit(die_when_told, pipe_fds[0]);
    Future<int> behind = executor.submit(square, 3);
    dying.add_done_callback([&executor](Future<int>) { executor.shutdown(false, true); });
    const auto deadline = Clock::now() + generous;
    while (!behind.running() && Clock::now() < deadline) std::this_thread::yield();
    ASSERT_TRUE(behind.running());  // sent to the worker, behind `dying`
    ASSERT_EQ(::write(pipe_fds[1], "x", 1), 1);
    EXPECT_THROW(dying.result(generous), weft::mp::WorkerLostError);
    EXPECT_EQ(behind.result(generous), 9);
  }
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST(ProcessPoolExecutor, RandomKillsLoseOnlyTheFuturesHeld) {
  constexpr int tasks = 3000;
  constexpr int kills = 10;
  ProcessPoolExecutor executor(2);
  std::atomic<int> latest_pid{0};
  std::vector<std::atomic<int>> endings(tasks);
  std::vector<Future<std::pair<long, int>>> futures;
  for (int i = 0; i < tasks; ++i) {
    futures.push_back(executor.submit(busy_square, i, 100));
    futures.back().add_done_callback([&latest_pid, &endings, i](Future<std::pair<long, int>> f) {
      if (!f.exception()) latest_pid.store(f.result().second);
      ++endings[i];
    });
  }
  kill_random_workers(latest_pid, kills, 777);
  int lost = 0;
  for (int i = 0; i < tasks; ++i) {
    try {
      EXPECT_EQ(futures[i].result(generous).first, static_cast<long>(i) * i);
    } catch (const weft::mp::WorkerLostError&) {
      ++lost;
    }
  }
  executor.shutdown();
  for (int i = 0; i < tasks; ++i) ASSERT_EQ(endings[i].load(), 1) << "future " << i;
  RecordProperty("lost", lost);
  EXPECT_LE(lost, kills);
}

}  // namespace
