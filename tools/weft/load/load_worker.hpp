// tools/weft/load/load_worker.hpp — one client thread of a load run: it
// connects its share of the connections, then runs an edge-triggered epoll
// loop over them, following the phases the driver sets in RunControl, and
// finally shuts its connections down and drains them for a moment.
//
// The driver constructs the workers, runs each one's run() on its own
// thread, reads the live_*() counters while they run, and reads the rest
// once the threads have been joined.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weft/load/latency_histogram.hpp"
#include "weft/load/load_connection.hpp"
#include "weft/load/loopback_address.hpp"
#include "weft/load/run_control.hpp"
#include "weft/protocol.hpp"

struct epoll_event;

namespace weft::tool {

struct WorkerSetup {
  LoopbackAddress address;
  Protocol protocol = Protocol::echo;
  std::size_t message_size = 64;
  int pipeline = 1;
  bool verify = true;
  int first_connection = 0;  // ids of this worker's connections start here
  int connections = 0;
  std::chrono::steady_clock::time_point retry_refused_until;  // keep retrying ECONNREFUSED
  std::chrono::steady_clock::time_point connect_deadline;     // give up connecting
  std::chrono::steady_clock::time_point hard_deadline;        // stop whatever the driver says
  std::uint64_t stalled_after_ns = 1'000'000'000;  // a request in flight this long at the end is stalled
};

class LoadWorker {
 public:
  LoadWorker(const WorkerSetup& setup, RunControl& control);
  ~LoadWorker();
  LoadWorker(const LoadWorker&) = delete;
  LoadWorker& operator=(const LoadWorker&) = delete;

  // The thread body. Blocks until the driver moves to RunPhase::stop (or
  // this worker's connections are gone, or its share of the request budget
  // is spent, and it has drained). Never throws: failures become errors.
  // Reports connected and finished to the RunControl exactly once each.
  void run() noexcept;

  // Live counters, readable from any thread while run() is going.
  std::uint64_t live_requests() const noexcept { return live_requests_.load(std::memory_order_relaxed); }
  std::uint64_t live_errors() const noexcept { return live_errors_.load(std::memory_order_relaxed); }
  int live_connections() const noexcept { return live_alive_.load(std::memory_order_relaxed); }

  // Results, valid once the thread running run() has been joined.
  const LatencyHistogram& histogram() const noexcept { return histogram_; }
  std::uint64_t requests() const noexcept { return requests_; }
  std::uint64_t bytes() const noexcept { return bytes_; }
  double cpu_seconds() const noexcept { return cpu_seconds_; }
  bool measured() const noexcept { return measure_end_ns_ != 0; }
  std::uint64_t measure_end_ns() const noexcept { return measure_end_ns_; }
  int connected() const noexcept { return connected_; }
  int lost() const noexcept { return lost_; }
  // At the end of the measured window: connections still open that completed
  // nothing in it, requests in flight for longer than stalled_after_ns, and
  // the age of the oldest of those.
  int idle() const noexcept { return idle_; }
  std::uint64_t stalled() const noexcept { return stalled_; }
  double oldest_stalled_seconds() const noexcept { return oldest_stalled_seconds_; }
  const std::map<std::string, std::uint64_t>& errors() const noexcept { return errors_; }

 private:
  void run_phases();
  void connect_all();
  std::string connect_one(LoadConnection& connection);
  int wait_connected(int fd);
  void prime();
  void event_loop();
  void drain();
  void handle(const epoll_event& event);
  bool on_readable(LoadConnection& connection);
  bool consume(LoadConnection& connection, const char* data, std::size_t size, std::uint64_t now);
  void complete(LoadConnection& connection, std::uint64_t now);
  bool flush(LoadConnection& connection);
  void lose(LoadConnection& connection, const std::string& why);
  void close_connection(LoadConnection& connection) noexcept;
  void close_all() noexcept;
  void begin_measure();
  void finish();
  void record_error(const std::string& message);
  void publish() noexcept;
  bool past_hard_deadline() const noexcept;

  WorkerSetup setup_;
  RunControl& control_;
  int epoll_fd_ = -1;
  std::vector<LoadConnection> connections_;
  std::vector<LoadConnection*> read_again_;
  std::array<char, 64 * 1024> buffer_{};

  int alive_ = 0;
  bool reported_connected_ = false;
  bool measuring_ = false;
  bool finished_ = false;
  bool draining_ = false;
  std::int64_t allowance_ = 0;

  LatencyHistogram histogram_;
  std::uint64_t requests_ = 0;
  std::uint64_t bytes_ = 0;
  double cpu_begin_ = 0.0;
  double cpu_seconds_ = 0.0;
  std::uint64_t measure_end_ns_ = 0;
  int connected_ = 0;
  int lost_ = 0;
  int idle_ = 0;
  std::uint64_t stalled_ = 0;
  double oldest_stalled_seconds_ = 0.0;
  std::map<std::string, std::uint64_t> errors_;
  std::uint64_t error_count_ = 0;

  alignas(64) std::atomic<std::uint64_t> live_requests_{0};
  std::atomic<std::uint64_t> live_errors_{0};
  std::atomic<int> live_alive_{0};
};

}  // namespace weft::tool
