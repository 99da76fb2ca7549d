// `weft worker`, run as the real binary on this test executable (whose
// runs become weft::dist workers through the bootstrap): it starts its
// workers, they answer tasks, a killed one is replaced, SIGTERM stops it
// all with status 0; and it refuses what it cannot serve.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <optional>
#include <string>
#include <vector>

#include "dist/redis_server.hpp"
#include "dist/test_worker_support.hpp"
#include "mp/child_process.hpp"
#include "weft/dist.hpp"

namespace worker_command_test {

int add(int a, int b) { return a + b; }

}  // namespace worker_command_test

WEFT_DIST_TASK(worker_command_test::add);

namespace weft::dist {
namespace {

using weft::test::Child;

std::string this_executable() {
  char path[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path);
  if (n <= 0) throw std::runtime_error("readlink /proc/self/exe failed");
  return std::string(path, static_cast<std::size_t>(n));
}

// The pid a "worker PID started (...)" line names, or 0.
pid_t started_pid(const std::optional<std::string>& line) {
  if (!line || !line->starts_with("worker ") || line->find(" started (queue ") == std::string::npos) return 0;
  return static_cast<pid_t>(std::stol(line->substr(7)));
}

// Sends `count` additions and checks every answer.
void expect_served(RedisConnection& redis, testing::StreamReader& results, const std::string& queue, int count,
                   int first) {
  for (int i = first; i < first + count; ++i)
    testing::add_task(redis, queue, testing::task_fields(queue, std::to_string(i), "worker_command_test::add", i, 1000));
  std::vector<bool> answered(static_cast<std::size_t>(count), false);
  for (int received = 0; received < count; ++received) {
    const std::optional<testing::Entry> result = results.next();
    ASSERT_TRUE(result) << "only " << received << " of " << count << " tasks were answered";
    const int id = std::stoi(result->field("id"));
    ASSERT_GE(id, first);
    ASSERT_LT(id, first + count);
    EXPECT_EQ(testing::value_of<int>(*result), id + 1000);
    answered[static_cast<std::size_t>(id - first)] = true;
  }
}

TEST(WeftWorker, ServesReplacesKilledWorkersAndStopsOnSigterm) {
  testing::RedisServer server;
  const std::string queue = "jobs";
  Child weft = Child::exec({WEFT_TOOL_PATH, "worker", "--redis", server.url(), "--queue", queue, "--concurrency",
                            "2", "--visibility-timeout", "1", this_executable(), "--gtest_filter=none"});
  const pid_t first = started_pid(weft.read_line());
  const pid_t second = started_pid(weft.read_line());
  ASSERT_GT(first, 0);
  ASSERT_GT(second, 0);

  RedisConnection redis(RedisUrl::parse(server.url()));
  testing::StreamReader results = testing::results_of(server.url(), queue);
  expect_served(redis, results, queue, 6, 0);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // "...; starting another", or, this soon after its start, "... within a
  // second of its start; starting another in 0.1 s".
  const std::string death = weft.read_line().value_or("");
  EXPECT_TRUE(death.starts_with("worker " + std::to_string(first) + " killed by SIGKILL")) << death;
  EXPECT_NE(death.find("; starting another"), std::string::npos) << death;
  const pid_t replacement = started_pid(weft.read_line());
  EXPECT_GT(replacement, 0);
  expect_served(redis, results, queue, 6, 100);

  ::kill(weft.pid(), SIGTERM);
  EXPECT_EQ(weft.read_line(), "stopping: 2 workers finishing their task");
  std::vector<std::string> stopped{weft.read_line().value_or(""), weft.read_line().value_or("")};
  std::sort(stopped.begin(), stopped.end());
  std::vector<std::string> expected{"worker " + std::to_string(second) + " stopped",
                                    "worker " + std::to_string(replacement) + " stopped"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(stopped, expected);
  EXPECT_EQ(weft.wait(), 0);
}

TEST(WeftWorker, RefusesABadQueueNameAndAProgramThatCannotRun) {
  testing::RedisServer server;
  Child bad_queue = Child::exec({WEFT_TOOL_PATH, "worker", "--redis", server.url(), "--queue", "a{b}", "/bin/true"});
  EXPECT_EQ(bad_queue.wait(), 2);
  Child missing = Child::exec({WEFT_TOOL_PATH, "worker", "--redis", server.url(), "--queue", "q", "/nonexistent/app"});
  EXPECT_EQ(missing.wait(), 1);
}

// A visibility timeout that is not a finite number of seconds within a week fails the option's
// check (CLI11's ValidationError status, 105) before anything starts; it used to overflow the
// workers' milliseconds, and they died on startup and were restarted forever.
TEST(WeftWorker, RefusesAVisibilityTimeoutItCannotCount) {
  constexpr int kOptionRefused = 105;
  for (const std::string seconds : {"1e16", "inf", "nan", "0", "-1", "604801"}) {
    Child weft = Child::exec({WEFT_TOOL_PATH, "worker", "--redis", "redis://127.0.0.1:1", "--queue", "q",
                              "--visibility-timeout", seconds, "/bin/true"});
    EXPECT_EQ(weft.wait(), kOptionRefused) << "--visibility-timeout " << seconds;
  }
}

}  // namespace
}  // namespace weft::dist
