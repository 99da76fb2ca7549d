// tools/weft/load/load_generator.hpp — the engine behind `weft load`, also
// called in-process by `weft shootout`: opens many loopback connections to
// an echo or http server, keeps `pipeline` requests in flight on each, and
// measures throughput, latency percentiles, and the CPU time the client and
// (optionally) the server spent over the measured window.
//
// A run goes: connect every connection (retrying ECONNREFUSED for up to
// 5 s, so a server that is still starting is waited for) → warmup (traffic
// flows, nothing is counted) → measure (until `requests` responses have
// completed or `duration` has passed) → stop (each connection is shut down
// for writing, drained briefly, and closed).
//
// Each client thread runs its own edge-triggered epoll loop over its share
// of the connections (non-blocking sockets, TCP_NODELAY), reads the clock
// once per read rather than per request, and records latencies into its own
// histogram, so the client stays cheaper per request than the servers it
// measures. Latency is from the moment a request is queued for sending to
// the moment its whole response has arrived (responses are matched FIFO
// per connection).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "weft/protocol.hpp"

namespace weft::tool {

// A snapshot handed to LoadOptions::on_progress.
struct Progress {
  enum class Phase { warmup, measure };
  Phase phase = Phase::warmup;
  double elapsed_seconds = 0.0;      // since this phase began
  std::uint64_t requests = 0;        // completed and counted (measure only)
  double requests_per_second = 0.0;  // requests / elapsed (measure only)
  std::uint64_t errors = 0;
  int connections_alive = 0;
};

struct LoadOptions {
  std::string host = "127.0.0.1";  // must be a loopback address or "localhost"
  std::uint16_t port = 0;          // required (non-zero)
  Protocol protocol = Protocol::echo;
  int connections = 100;
  std::size_t message_size = 64;  // echo only: bytes per request (1 .. 16 MiB)
  int pipeline = 1;               // requests kept in flight per connection
  int threads = 1;                // client threads, each with its own epoll loop
  std::optional<std::uint64_t> requests;  // stop after this many measured responses
  std::chrono::duration<double> duration{5.0};  // ... or after this long, whichever first
  std::chrono::duration<double> warmup{0.5};
  std::optional<int> cpu;  // pin client thread i to core cpu + i
  std::optional<pid_t> server_pid;  // sample this process tree's CPU over the measured window
  bool verify = true;               // compare every response byte with what was expected
  // A request still unanswered this long after it was sent, at the end of
  // the measured window, is reported as stalled.
  std::chrono::duration<double> stalled_after{1.0};
  // Called on the calling thread roughly every 250 ms during warmup and
  // measurement. Must not throw.
  std::function<void(const Progress&)> on_progress;
  // Called on the calling thread at the edges of the measured window, where
  // the server's CPU is sampled: just before counting starts, and just after
  // it ends. For counters of one's own (e.g. perf) that should cover the
  // same window. Must not throw; the run waits while they block.
  std::function<void()> on_measure_begin;
  std::function<void()> on_measure_end;
};

struct LoadResult {
  std::uint64_t requests = 0;  // responses completed in the measured window
  std::uint64_t bytes = 0;     // response bytes read in the measured window
  double seconds = 0.0;        // length of the measured window
  double requests_per_second = 0.0;
  double mean_us = 0.0;
  double p50_us = 0.0;
  double p99_us = 0.0;
  double p999_us = 0.0;
  double max_us = 0.0;
  int threads = 0;               // client threads used (at most one per connection)
  int connections = 0;           // how many connected
  int connections_lost = 0;      // how many died before the stop
  // At the end of the measured window (each is also a warning): connections
  // open that completed no request in the window (not counted when a
  // request budget ended the run), requests in flight longer than
  // stalled_after, and the age of the oldest of those.
  int connections_idle = 0;
  std::uint64_t requests_stalled = 0;
  double oldest_stalled_seconds = 0.0;
  double client_cpu_seconds = 0.0;  // summed over client threads, measured window only
  bool client_saturated = false;    // client CPU > 90% of wall time × threads
  std::optional<double> server_cpu_seconds;  // with server_pid: utime+stime of it and its descendants over the window
  std::optional<double> server_cpu_us_per_request;
  std::uint64_t errors = 0;  // connection failures, resets, early EOFs, wrong bytes
  std::vector<std::string> error_messages;  // distinct messages, "(×N)" when repeated
  std::vector<std::string> warnings;        // e.g. the server's CPU could not be sampled
};

// Runs one load run as described above. Blocks for the whole run (about
// connect + warmup + duration). Throws std::invalid_argument for bad options
// (a non-loopback host, port 0, a core that does not exist, a server_pid
// whose /proc entry cannot be read, ...) and std::system_error when the
// client cannot set itself up (epoll, threads, file-descriptor limit).
// Failures of connections are not thrown: they are counted in `errors`, the
// run goes on with the remaining connections, and ends early if none are
// left. Thread-safe: concurrent runs share nothing.
LoadResult run_load(const LoadOptions& options);

// The checks run_load makes of the options' numbers and port before it
// starts: throws std::invalid_argument (saying what is out of range) for
// what it would refuse. Never blocks; thread-safe.
void check_options(const LoadOptions& options);

}  // namespace weft::tool
