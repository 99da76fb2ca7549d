// Tests of read_process_cpu (/proc/PID/stat sampling) and of the loopback
// address check of the load generator.
#include <gtest/gtest.h>

#include <sys/wait.h>
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

TEST(LoopbackAddress, AcceptsOnlyLoopback) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"", "10.0.0.1", "0.0.0.0", "192.168.1.1", "::", "::ffff:10.0.0.1",
                           "example.com", "128.0.0.1", "127.0.0.1:80"}) {
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}
