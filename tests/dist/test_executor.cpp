// dist::Executor against a real redis-server, with workers that are runs
// of this executable: results, exceptions, map, registration, shutdown,
// and tasks submitted before any worker exists.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "dist/redis_suite.hpp"
#include "dist/worker_processes.hpp"
#include "threading/test_support.hpp"
#include "weft/dist.hpp"
#include "weft/dist/detail/wire.hpp"
#include "weft/mp/reduction.hpp"
#include "weft/net.hpp"

namespace dist_executor_test {

int add(int a, int b) { return a + b; }
long square(long x) { return x * x; }
void nothing() {}
std::string greet(std::string name) { return "hello " + name; }
int refuse(int code) { throw weft::ValueError("refused " + std::to_string(code)); }
std::vector<int> range(int n) {
  std::vector<int> all;
  for (int i = 0; i < n; ++i) all.push_back(i);
  return all;
}
int peer_port(weft::net::Socket sock) { return sock.getpeername().port(); }
weft::net::Socket make_socket() { return weft::net::Socket(AF_UNIX, SOCK_STREAM); }
// A lambda is registered, and submitted, through its variable.
constexpr auto triple = [](int x) { return 3 * x; };

}  // namespace dist_executor_test

WEFT_DIST_TASK(dist_executor_test::add);
WEFT_DIST_TASK(dist_executor_test::square);
WEFT_DIST_TASK(dist_executor_test::nothing);
WEFT_DIST_TASK(dist_executor_test::greet);
WEFT_DIST_TASK(dist_executor_test::refuse);
WEFT_DIST_TASK(dist_executor_test::peer_port);
WEFT_DIST_TASK(dist_executor_test::make_socket);
WEFT_DIST_TASK_NAMED("range", dist_executor_test::range);
WEFT_DIST_TASK_NAMED("triple", dist_executor_test::triple);

namespace weft::dist {
namespace {

using namespace std::chrono_literals;
using namespace dist_executor_test;

class DistExecutor : public testing::RedisSuite {};


TEST_F(DistExecutor, SubmitReturnsTheResult) {
  auto workers = testing::start_workers(1, testing::worker_options(url(), queue()));
  Executor executor(url(), queue());
  auto sum = executor.submit(add, 2, 3);
  auto hello = executor.submit(greet, std::string("weft"));
  auto none = executor.submit(nothing);
  auto numbers = executor.submit(range, 5);
  auto tripled = executor.submit(triple, 14);
  EXPECT_EQ(sum.result(10s), 5);
  EXPECT_EQ(hello.result(10s), "hello weft");
  none.result(10s);
  EXPECT_EQ(numbers.result(10s), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(tripled.result(10s), 42);
}

TEST_F(DistExecutor, MapKeepsTheOrder) {
  auto workers = testing::start_workers(2, testing::worker_options(url(), queue()));
  Executor executor(url(), queue());
  std::vector<long> xs;
  for (long i = 0; i < 200; ++i) xs.push_back(i);
  std::vector<long> squares;
  for (long r : executor.map(futures::MapOptions{.timeout = 20s}, square, xs)) squares.push_back(r);
  ASSERT_EQ(squares.size(), xs.size());
  for (long i = 0; i < 200; ++i) EXPECT_EQ(squares[static_cast<std::size_t>(i)], i * i);
}

TEST_F(DistExecutor, TheFunctionsExceptionArrivesAsItsType) {
  auto workers = testing::start_workers(1, testing::worker_options(url(), queue()));
  Executor executor(url(), queue());
  auto failed = executor.submit(refuse, 7);
  ASSERT_TRUE(failed.wait(10s));
  EXPECT_THROW(failed.result(), weft::ValueError);
  try {
    failed.result();
  } catch (const weft::ValueError& error) {
    EXPECT_STREQ(error.what(), "refused 7");
  }
  EXPECT_EQ(executor.submit(add, 1, 1).result(10s), 2);  // the worker serves on
}

TEST_F(DistExecutor, TasksSubmittedBeforeAnyWorkerRunWhenOneStarts) {
  Executor executor(url(), queue());
  std::vector<futures::Future<int>> results;
  for (int i = 0; i < 50; ++i) results.push_back(executor.submit(add, i, 1));
  EXPECT_FALSE(results.back().wait(50ms));
  auto worker = testing::start_worker(testing::worker_options(url(), queue()));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)].result(10s), i + 1);
}

// Arguments longer than Redis takes fail their task alone: the tasks sent
// with it reach the stream once each, those before it and those after.
TEST_F(DistExecutor, ArgumentsLongerThanRedisTakesFailTheirTaskAlone) {
  const testing::SmallBulkLimit limit(url());
  RedisConnection redis(RedisUrl::parse(url()));
  Executor executor(url(), queue());
  std::vector<futures::Future<std::string>> small;
  for (int i = 0; i < 30; ++i) small.push_back(executor.submit(greet, std::to_string(i)));
  auto big = executor.submit(greet, std::string(testing::SmallBulkLimit::too_long, 'x'));
  for (int i = 30; i < 60; ++i) small.push_back(executor.submit(greet, std::to_string(i)));
  ASSERT_TRUE(big.wait(10s));
  try {
    big.result();
    ADD_FAILURE() << "a task Redis refused succeeded";
  } catch (const RedisResponseError& error) {
    EXPECT_NE(std::string(error.what()).find("proto-max-bulk-len"), std::string::npos) << error.what();
  }
  const std::string tasks = detail::tasks_key(queue());
  EXPECT_TRUE(weft::test::eventually([&] { return redis.command({"XLEN", tasks}).integer >= 60; }));
  EXPECT_EQ(redis.command({"XLEN", tasks}).integer, 60) << "tasks sent more than once";
  auto worker = testing::start_worker(testing::worker_options(url(), queue()));
  for (int i = 0; i < 60; ++i) EXPECT_EQ(small[static_cast<std::size_t>(i)].result(10s), "hello " + std::to_string(i));
}

TEST_F(DistExecutor, AnUnregisteredFunctionIsRefusedAtSubmit) {
  Executor executor(url(), queue());
  EXPECT_THROW(executor.submit(+[](int x) { return x - 1; }, 1), weft::ValueError);
}

// A descriptor lent by this process could not be taken on another machine.
TEST_F(DistExecutor, ASocketArgumentIsRefusedAtSubmit) {
  Executor executor(url(), queue());
  auto [a, b] = net::socketpair();
  EXPECT_THROW(executor.submit(peer_port, std::move(a)), codec::EncodeError);
}

TEST_F(DistExecutor, ASocketResultFailsItsTask) {
  auto workers = testing::start_workers(1, testing::worker_options(url(), queue()));
  Executor executor(url(), queue());
  auto made = executor.submit(make_socket);
  ASSERT_TRUE(made.wait(10s));
  EXPECT_THROW(made.result(), codec::EncodeError);
  EXPECT_EQ(executor.submit(add, 1, 1).result(10s), 2);  // the worker serves on
}

TEST_F(DistExecutor, BadUrlsAndQueueNamesAreValueErrors) {
  EXPECT_THROW(Executor("http://127.0.0.1:6379", queue()), weft::ValueError);
  EXPECT_THROW(Executor(url(), ""), weft::ValueError);
  EXPECT_THROW(Executor(url(), "a{b}"), weft::ValueError);
}

TEST_F(DistExecutor, MeaninglessOptionsAreValueErrors) {
  const auto refused = [&](auto change) {
    ExecutorOptions options;
    change(options);
    EXPECT_THROW(Executor(url(), queue(), options), weft::ValueError);
  };
  refused([](ExecutorOptions& o) { o.task_timeout = -5ms; });
  refused([](ExecutorOptions& o) { o.connection.connect_timeout = -1ms; });
  refused([](ExecutorOptions& o) { o.connection.io_timeout = 0ms; });
  refused([](ExecutorOptions& o) { o.connection.io_timeout = -1ms; });
  auto workers = testing::start_workers(1, testing::worker_options(url(), queue()));
  Executor executor(url(), queue(), ExecutorOptions{.max_retries = 0, .task_timeout = 0ms});  // no time limit
  EXPECT_EQ(executor.submit(add, 2, 3).result(10s), 5);
}

TEST_F(DistExecutor, AnUnreachableRedisIsAClearErrorInBoundedTime) {
  ExecutorOptions options;
  options.connection.connect_timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  try {
    Executor executor("redis://127.0.0.1:1/0", queue(), options);
    ADD_FAILURE() << "connected to port 1";
  } catch (const RedisConnectionError& error) {
    EXPECT_NE(std::string(error.what()).find("127.0.0.1:1"), std::string::npos) << error.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(DistExecutor, ShutdownRefusesNewTasksAndWaitsForTheRunningOnes) {
  auto workers = testing::start_workers(1, testing::worker_options(url(), queue()));
  Executor executor(url(), queue());
  std::vector<futures::Future<int>> results;
  for (int i = 0; i < 100; ++i) results.push_back(executor.submit(add, i, i));
  executor.shutdown(true);
  for (auto& result : results) EXPECT_TRUE(result.done());
  EXPECT_EQ(results[99].result(), 198);
  EXPECT_THROW(executor.submit(add, 1, 2), weft::RuntimeError);
}

TEST_F(DistExecutor, ShutdownCancelsWhatWasNotSent) {
  Executor executor(url(), queue());
  std::vector<futures::Future<int>> results;
  for (int i = 0; i < 2000; ++i) results.push_back(executor.submit(add, i, 0));
  executor.shutdown(false, true);
  std::size_t cancelled = 0;
  for (auto& result : results) cancelled += result.cancelled() ? 1 : 0;
  // Whatever was not cancelled is in Redis: a worker completes it.
  auto worker = testing::start_worker(testing::worker_options(url(), queue()));
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i].cancelled()) continue;
    EXPECT_EQ(results[i].result(20s), static_cast<int>(i));
  }
  RecordProperty("cancelled", static_cast<int>(cancelled));
}

TEST_F(DistExecutor, AFutureCancelledBeforeItIsSentNeverRuns) {
  Executor executor(url(), queue());
  auto first = executor.submit(add, 1, 1);
  std::vector<futures::Future<int>> cancelled, sent;
  for (int i = 0; i < 100; ++i) {
    auto f = executor.submit(add, i, 0);
    (f.cancel() ? cancelled : sent).push_back(f);
  }
  auto worker = testing::start_worker(testing::worker_options(url(), queue()));
  EXPECT_EQ(first.result(10s), 2);
  for (auto& f : cancelled) EXPECT_THROW(f.result(), weft::CancelledError);
  for (auto& f : sent) EXPECT_TRUE(f.wait(10s));
  executor.shutdown(true);  // while the worker still serves
}

TEST_F(DistExecutor, DoneCallbacksRunOnceInThisProcess) {
  auto workers = testing::start_workers(2, testing::worker_options(url(), queue()));
  testing::DoneCounter done;
  const auto self = std::this_thread::get_id();
  std::atomic<bool> on_other_thread{true};
  Executor executor(url(), queue());
  for (int i = 0; i < 300; ++i) {
    executor.submit(square, static_cast<long>(i)).add_done_callback([&](futures::Future<long>) {
      if (std::this_thread::get_id() == self) on_other_thread = false;
      done.add();
    });
  }
  ASSERT_TRUE(done.wait_for_at_least(300, 20s));
  executor.shutdown(true);
  EXPECT_EQ(done.count(), 300u);
  EXPECT_TRUE(on_other_thread);
}

TEST_F(DistExecutor, TwoExecutorsOnOneQueueEachGetTheirOwnResults) {
  auto workers = testing::start_workers(2, testing::worker_options(url(), queue()));
  Executor a(url(), queue());
  Executor b(url(), queue());
  EXPECT_NE(a.id(), b.id());
  std::vector<futures::Future<int>> from_a, from_b;
  for (int i = 0; i < 100; ++i) {
    from_a.push_back(a.submit(add, i, 1000));
    from_b.push_back(b.submit(add, i, 2000));
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(from_a[static_cast<std::size_t>(i)].result(10s), i + 1000);
    EXPECT_EQ(from_b[static_cast<std::size_t>(i)].result(10s), i + 2000);
  }
}

TEST_F(DistExecutor, ShutdownDeletesTheResultsStream) {
  auto worker = testing::start_worker(testing::worker_options(url(), queue()));
  std::string results;
  {
    Executor executor(url(), queue());
    results = detail::results_key(queue(), executor.id());
    EXPECT_EQ(executor.submit(add, 1, 2).result(10s), 3);
  }
  RedisConnection redis(RedisUrl::parse(url()));
  EXPECT_EQ(redis.command({"EXISTS", results}).integer, 0);
}

}  // namespace
}  // namespace weft::dist
