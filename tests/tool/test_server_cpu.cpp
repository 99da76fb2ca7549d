// Tests of read_process_cpu (/proc/PID/stat sampling) and of the loopback
// address check of the load generator.
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

#include "weft/load/loopback_address.hpp"
#include "weft/load/server_cpu.hpp"

using weft::tool::is_loopback_host;
using weft::tool::read_process_cpu;

TEST(ServerCpu, ReadsOwnProcess) {
  const auto before = read_process_cpu(::getpid());
  ASSERT_TRUE(before.has_value());
  EXPECT_GE(before->user_seconds, 0.0);
  EXPECT_GE(before->system_seconds, 0.0);

  // Burn CPU until the kernel's tick-granular count moves (bounded).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  volatile std::uint64_t sink = 0;
  double seen = before->total_seconds();
  while (seen <= before->total_seconds() && std::chrono::steady_clock::now() < give_up) {
    for (int i = 0; i < 1'000'000; ++i) sink = sink + static_cast<std::uint64_t>(i);
    seen = read_process_cpu(::getpid())->total_seconds();
  }
  EXPECT_GT(seen, before->total_seconds());
}

TEST(ServerCpu, MissingProcessIsNullopt) {
  EXPECT_FALSE(read_process_cpu(0).has_value());
  EXPECT_FALSE(read_process_cpu(-5).has_value());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_FALSE(read_process_cpu(child).has_value());
}

// A reaped child's time is in cutime/cstime; a live process's own time is read in nanoseconds.
TEST(ServerCpu, CountsReapedChildrenAndReadsOtherProcessesExactly) {
  const auto before = read_process_cpu(::getpid());
  ASSERT_TRUE(before.has_value());
  ASSERT_TRUE(before->exact_seconds.has_value());
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Burns 50 ms of CPU, says so, and waits to be killed.
    timespec start{}, now{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &start);
    do ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    while ((now.tv_sec - start.tv_sec) * 1'000'000'000L + (now.tv_nsec - start.tv_nsec) < 50'000'000L);
    [[maybe_unused]] const ssize_t n = ::write(ready[1], "x", 1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  const auto running = read_process_cpu(child);
  ASSERT_TRUE(running.has_value());
  ASSERT_TRUE(running->exact_seconds.has_value());
  EXPECT_GE(*running->exact_seconds, 0.05);
  ::kill(child, SIGKILL);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const auto after = read_process_cpu(::getpid());
  ASSERT_TRUE(after.has_value());
  EXPECT_GE(after->children_seconds - before->children_seconds, 0.05 - 0.021);  // a tick each for cutime, cstime
}

TEST(LoopbackAddress, AcceptsOnlyLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"", "10.0.0.1", "0.0.0.0", "192.168.1.1", "::", "::ffff:10.0.0.1",
                           "example.com", "128.0.0.1", "127.0.0.1:80"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}
