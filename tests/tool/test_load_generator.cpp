// Tests of run_load against the in-process TestServer: exact request
// budgets, both protocols, several threads, verification failures, dying
// connections, option checks, and server CPU sampling.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>

#include "test_server.hpp"
#include "weft/load/load_generator.hpp"

using weft::tool::LoadOptions;
using weft::tool::LoadResult;
using weft::tool::Progress;
using weft::tool::Protocol;
using weft::tool::run_load;
using weft::tool::testing::TestServer;

namespace {

LoadOptions options_for(const TestServer& server) {
  LoadOptions o;
  o.port = server.port();
  o.connections = 8;
  o.pipeline = 4;
  o.warmup = std::chrono::duration<double>(0.05);
  o.duration = std::chrono::duration<double>(20.0);
  return o;
}

bool mentions(const LoadResult& r, const std::string& text) {
  return std::any_of(r.error_messages.begin(), r.error_messages.end(),
                     [&](const std::string& m) { return m.find(text) != std::string::npos; });
}

}  // namespace

TEST(LoadGenerator, EchoStopsAtExactlyTheRequestBudget) {
  TestServer server(TestServer::Mode::echo);
  LoadOptions o = options_for(server);
  o.requests = 5000;
  o.message_size = 100;
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u) << (r.error_messages.empty() ? "" : r.error_messages[0]);
  EXPECT_EQ(r.requests, 5000u);
  EXPECT_EQ(r.connections, 8);
  EXPECT_GT(r.seconds, 0.0);
  EXPECT_LT(r.seconds, 20.0);
  EXPECT_GT(r.requests_per_second, 0.0);
  EXPECT_GT(r.p50_us, 0.0);
  EXPECT_LE(r.p50_us, r.p99_us);
  EXPECT_LE(r.p99_us, r.p999_us);
  EXPECT_LE(r.p999_us, r.max_us);
  EXPECT_GE(r.bytes, 5000u * 100u);
  EXPECT_FALSE(r.server_cpu_seconds.has_value());
}

TEST(LoadGenerator, HttpWithSeveralThreads) {
  TestServer server(TestServer::Mode::http);
  LoadOptions o = options_for(server);
  o.protocol = Protocol::http;
  o.threads = 3;
  o.connections = 7;
  o.requests = 3000;
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u) << (r.error_messages.empty() ? "" : r.error_messages[0]);
  EXPECT_EQ(r.requests, 3000u);
  EXPECT_EQ(r.threads, 3);
  EXPECT_EQ(r.connections, 7);
}

TEST(LoadGenerator, DurationBoundsTheRunAndProgressIsReported) {
  TestServer server(TestServer::Mode::echo);
  LoadOptions o = options_for(server);
  o.duration = std::chrono::duration<double>(0.6);
  std::atomic<int> measure_reports{0};
  o.on_progress = [&](const Progress& p) {
    if (p.phase == Progress::Phase::measure) ++measure_reports;
  };
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.requests, 0u);
  EXPECT_GE(r.seconds, 0.5);
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_GE(measure_reports.load(), 1);
}

TEST(LoadGenerator, CorruptedEchoIsAnError) {
  TestServer server(TestServer::Mode::corrupt);
  LoadOptions o = options_for(server);
  o.duration = std::chrono::duration<double>(0.3);
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 8u);
  EXPECT_EQ(r.connections_lost, 8);
  EXPECT_TRUE(mentions(r, "differs")) << (r.error_messages.empty() ? "" : r.error_messages[0]);
}

TEST(LoadGenerator, WithoutVerifyCorruptionGoesUnnoticed) {
  TestServer server(TestServer::Mode::corrupt);
  LoadOptions o = options_for(server);
  o.verify = false;
  o.requests = 1000;
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.requests, 1000u);
}

TEST(LoadGenerator, EndsEarlyWhenEveryConnectionDies) {
  TestServer server(TestServer::Mode::close_after, 64 * 50);
  LoadOptions o = options_for(server);
  o.warmup = std::chrono::duration<double>(0);
  const LoadResult r = run_load(o);  // duration is 20 s; it must not take that
  EXPECT_EQ(r.errors, 8u);
  EXPECT_EQ(r.connections_lost, 8);
  EXPECT_LT(r.seconds, 10.0);
  EXPECT_TRUE(mentions(r, "server closed the connection"));
}

// Connections that get no answer are reported, not averaged away.
TEST(LoadGenerator, ReportsConnectionsThatCompletedNothingAndStalledRequests) {
  TestServer server(TestServer::Mode::mute_odd);
  LoadOptions o = options_for(server);  // 8 connections, 4 requests in flight on each
  o.duration = std::chrono::duration<double>(0.4);
  o.stalled_after = std::chrono::duration<double>(0.2);
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_GT(r.requests, 0u);
  EXPECT_EQ(r.connections_idle, 4);
  EXPECT_EQ(r.requests_stalled, 16u);
  EXPECT_GE(r.oldest_stalled_seconds, 0.4);
  ASSERT_EQ(r.warnings.size(), 2u);
  EXPECT_NE(r.warnings[0].find("4 of 8 connections completed no request"), std::string::npos) << r.warnings[0];
  EXPECT_NE(r.warnings[1].find("16 requests unanswered"), std::string::npos) << r.warnings[1];
}

TEST(LoadGenerator, AHealthyRunHasNoStalledRequests) {
  TestServer server(TestServer::Mode::echo);
  LoadOptions o = options_for(server);
  o.duration = std::chrono::duration<double>(0.3);
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.connections_idle, 0);
  EXPECT_EQ(r.requests_stalled, 0u);
  EXPECT_TRUE(r.warnings.empty());
}

TEST(LoadGenerator, SamplesTheServersCpu) {
  TestServer server(TestServer::Mode::echo);
  LoadOptions o = options_for(server);
  o.duration = std::chrono::duration<double>(0.3);
  o.server_pid = ::getpid();  // the test server runs in this process
  const LoadResult r = run_load(o);
  EXPECT_EQ(r.errors, 0u);
  ASSERT_TRUE(r.server_cpu_seconds.has_value());
  EXPECT_GE(*r.server_cpu_seconds, 0.0);
  ASSERT_TRUE(r.server_cpu_us_per_request.has_value());
}

TEST(LoadGenerator, RejectsBadOptions) {
  LoadOptions o;
  o.port = 9;
  o.host = "10.1.2.3";
  EXPECT_THROW(run_load(o), std::invalid_argument);
  o.host = "127.0.0.1";
  o.port = 0;
  EXPECT_THROW(run_load(o), std::invalid_argument);
  o.port = 9;
  o.pipeline = 0;
  EXPECT_THROW(run_load(o), std::invalid_argument);
  o.pipeline = 1;
  o.cpu = 100000;
  EXPECT_THROW(run_load(o), std::invalid_argument);
  o.cpu.reset();
  o.server_pid = -1;
  EXPECT_THROW(run_load(o), std::invalid_argument);
}
