// dist::Executor under failure: a worker SIGKILLed mid-run, Redis killed
// and restarted (AOF), malformed stream entries, tasks past their time
// limit, tasks whose workers keep dying.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dist/redis_server.hpp"
#include "dist/worker_processes.hpp"
#include "threading/test_support.hpp"
#include "weft/dist.hpp"
#include "weft/dist/detail/wire.hpp"

namespace dist_faults_test {

long twice(long x) { return 2 * x; }
int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}
int die(int) {
  ::raise(SIGKILL);
  return 0;
}

}  // namespace dist_faults_test

WEFT_DIST_TASK(dist_faults_test::twice);
WEFT_DIST_TASK(dist_faults_test::sleep_ms);
WEFT_DIST_TASK(dist_faults_test::die);

namespace weft::dist {
namespace {

using namespace std::chrono_literals;
using namespace dist_faults_test;

std::string test_name() { return ::testing::UnitTest::GetInstance()->current_test_info()->name(); }

// Every future done exactly once with 2 * its argument; every callback ran once.
void expect_all_twice(std::vector<futures::Future<long>>& results, std::vector<std::atomic<int>>& calls,
                      testing::DoneCounter& done) {
  for (std::size_t i = 0; i < results.size(); ++i) {
    ASSERT_TRUE(results[i].wait(60s)) << "task " << i << " never completed";
    EXPECT_EQ(results[i].result(), 2 * static_cast<long>(i)) << "task " << i;
  }
  // A future is done just before its callbacks run.
  ASSERT_TRUE(done.wait_for_at_least(results.size(), 10s));
  for (std::size_t i = 0; i < calls.size(); ++i) EXPECT_EQ(calls[i].load(), 1) << "callbacks of task " << i;
}

TEST(DistExecutorFaults, AWorkerKilledMidRunLosesNothing) {
  testing::RedisServer server;
  const int n = weft::test::scaled(10000);
  auto workers = testing::start_workers(3, testing::worker_options(server.url(), test_name(), 500ms));
  // Declared before the executor, which is destroyed (its threads joined) first.
  testing::DoneCounter done;
  std::vector<std::atomic<int>> calls(static_cast<std::size_t>(n));
  Executor executor(server.url(), test_name());
  std::vector<futures::Future<long>> results;
  for (int i = 0; i < n; ++i) {
    results.push_back(executor.submit(twice, static_cast<long>(i)));
    results.back().add_done_callback([&, i](futures::Future<long>) {
      ++calls[static_cast<std::size_t>(i)];
      done.add();
    });
  }
  ASSERT_TRUE(done.wait_for_at_least(static_cast<std::size_t>(n) / 5, 60s));
  EXPECT_EQ(workers[1].kill(SIGKILL), 128 + SIGKILL);
  expect_all_twice(results, calls, done);
}

TEST(DistExecutorFaults, RedisKilledAndRestartedWithAofLosesNothing) {
  testing::RedisServer server(testing::RedisServer::Options{.aof = true});
  const int n = weft::test::scaled(1500);  // appendfsync always: an fsync per write
  auto workers = testing::start_workers(2, testing::worker_options(server.url(), test_name(), 500ms));
  testing::DoneCounter done;
  std::vector<std::atomic<int>> calls(static_cast<std::size_t>(n));
  Executor executor(server.url(), test_name());
  std::vector<futures::Future<long>> results;
  auto submit = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      results.push_back(executor.submit(twice, static_cast<long>(i)));
      results.back().add_done_callback([&, i](futures::Future<long>) {
        ++calls[static_cast<std::size_t>(i)];
        done.add();
      });
    }
  };
  submit(0, n / 2);
  ASSERT_TRUE(done.wait_for_at_least(static_cast<std::size_t>(n) / 4, 60s));
  server.kill();
  server.start();
  submit(n / 2, n);
  expect_all_twice(results, calls, done);
}

TEST(DistExecutorFaults, MalformedEntriesGoToTheDeadLetterStreamAndWorkersServeOn) {
  testing::RedisServer server;
  auto worker = testing::start_worker(testing::worker_options(server.url(), test_name()));
  RedisConnection redis(RedisUrl::parse(server.url()));
  const std::string tasks = detail::tasks_key(test_name());
  redis.command({"XADD", tasks, "*", "garbage", "entry"});
  redis.command({"XADD", tasks, "*", "id", "1", "fn", "no::such_function", "sig", "1", "args", "\x91\x01",
                 "reply", "elsewhere", "retries", "0", "timeout", "0"});
  Executor executor(server.url(), test_name());
  EXPECT_EQ(executor.submit(twice, 21L).result(10s), 42);
  const Reply dead = redis.command({"XRANGE", detail::dead_key(test_name()), "-", "+"});
  ASSERT_EQ(dead.elements.size(), 2u);
}

TEST(DistExecutorFaults, ATaskPastItsTimeLimitFailsAndItsWorkerIsReplaced) {
  testing::RedisServer server;
  auto worker = testing::start_worker(testing::worker_options(server.url(), test_name()));
  ExecutorOptions options;
  options.task_timeout = 300ms;
  Executor executor(server.url(), test_name(), options);
  auto slow = executor.submit(sleep_ms, 20000);
  ASSERT_TRUE(slow.wait(15s));
  EXPECT_THROW(slow.result(), TaskTimeoutError);
  EXPECT_EQ(worker.wait(), 70);
  auto replacement = testing::start_worker(testing::worker_options(server.url(), test_name()));
  EXPECT_EQ(executor.submit(sleep_ms, 1).result(10s), 1);
}

TEST(DistExecutorFaults, ATaskWhoseWorkersKeepDyingIsDeadLetteredAfterItsRetries) {
  testing::RedisServer server;
  const auto options = testing::worker_options(server.url(), test_name(), 300ms);
  ExecutorOptions executor_options;
  executor_options.max_retries = 1;
  Executor executor(server.url(), test_name(), executor_options);
  auto doomed = executor.submit(die, 0);
  for (int delivery = 1; delivery <= 2; ++delivery) {
    auto worker = testing::start_worker(options);
    EXPECT_EQ(worker.wait(15s), 128 + SIGKILL) << "delivery " << delivery;
  }
  auto survivor = testing::start_worker(options);
  ASSERT_TRUE(doomed.wait(15s));
  EXPECT_THROW(doomed.result(), DeadLetterError);
  EXPECT_EQ(executor.submit(twice, 5L).result(10s), 10);
  RedisConnection redis(RedisUrl::parse(server.url()));
  EXPECT_EQ(redis.command({"XLEN", detail::dead_key(test_name())}).integer, 1);
}

}  // namespace
}  // namespace weft::dist
