// tools/weft/load/load_generator.cpp — the driver of a load run: checks the
// options, starts one LoadWorker thread per client thread (pinned when asked),
// walks the run through its phases, samples the server's CPU at the edges of
// the measured window, and folds the workers' results into a LoadResult.
#include "weft/load/load_generator.hpp"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <memory>
#include <map>
#include <stdexcept>
#include <system_error>
#include <thread>

#include <fmt/format.h>

#include "weft/load/load_worker.hpp"
#include "weft/load/loopback_address.hpp"
#include "weft/load/run_control.hpp"
#include "weft/load/server_cpu.hpp"

namespace weft::tool {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxConnections = 100'000;
constexpr int kMaxPipeline = 1024;
constexpr int kMaxThreads = 256;
constexpr std::size_t kMaxMessageSize = 16u << 20;
constexpr std::size_t kMaxPayloadMemory = std::size_t{1} << 30;
constexpr double kMaxSeconds = 24.0 * 3600.0;
constexpr auto kRetryRefusedFor = std::chrono::seconds(5);
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
constexpr double kSaturated = 0.9;

}  // namespace

void check_options(const LoadOptions& o) {
  auto fail = [](const std::string& what) { throw std::invalid_argument(what); };
  if (o.port == 0) fail("a port is required (1-65535)");
  if (o.connections < 1 || o.connections > kMaxConnections) {
    fail(fmt::format("connections must be 1..{}, not {}", kMaxConnections, o.connections));
  }
  if (o.pipeline < 1 || o.pipeline > kMaxPipeline) {
    fail(fmt::format("pipeline must be 1..{}, not {}", kMaxPipeline, o.pipeline));
  }
  if (o.threads < 1 || o.threads > kMaxThreads) {
    fail(fmt::format("threads must be 1..{}, not {}", kMaxThreads, o.threads));
  }
  if (o.protocol == Protocol::echo) {
    if (o.message_size < 1 || o.message_size > kMaxMessageSize) {
      fail(fmt::format("message size must be 1..{} bytes, not {}", kMaxMessageSize, o.message_size));
    }
    if (o.message_size * static_cast<std::size_t>(o.connections) > kMaxPayloadMemory) {
      fail("connections × message size exceeds 1 GiB of request payloads");
    }
  }
  if (o.requests && *o.requests == 0) fail("requests must be at least 1");
  if (!(o.duration.count() > 0.0 && o.duration.count() <= kMaxSeconds)) {
    fail("duration must be more than 0 and at most 24 hours");
  }
  if (!(o.warmup.count() >= 0.0 && o.warmup.count() <= kMaxSeconds)) {
    fail("warmup must be 0 or more and at most 24 hours");
  }
}

namespace {

// The cores client thread i runs on: cpu + i, each of which this process
// must be allowed to use.
void check_cores(int first, int threads) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
    throw std::system_error(errno, std::system_category(), "sched_getaffinity");
  }
  for (int i = 0; i < threads; ++i) {
    const int core = first + i;
    if (core < 0 || core >= CPU_SETSIZE || !CPU_ISSET(core, &allowed)) {
      throw std::invalid_argument(fmt::format(
          "cannot pin client thread {} to core {}: this process may not run there "
          "(with --cpu K, the T client threads use cores K..K+T-1)",
          i, core));
    }
  }
}

void pin(std::thread& thread, int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  const int error = ::pthread_setaffinity_np(thread.native_handle(), sizeof set, &set);
  if (error != 0) {
    throw std::system_error(error, std::system_category(), fmt::format("pinning to core {}", core));
  }
}

// Raises the soft RLIMIT_NOFILE (up to the hard limit) so every connection
// gets a descriptor.
void ensure_descriptors(int connections) {
  const rlim_t needed = static_cast<rlim_t>(connections) + 64;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    throw std::system_error(errno, std::system_category(), "getrlimit(RLIMIT_NOFILE)");
  }
  if (limit.rlim_cur >= needed) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) {
    throw std::system_error(EMFILE, std::system_category(),
                            fmt::format("{} connections need {} file descriptors, but the hard "
                                        "limit is {}",
                                        connections, needed, limit.rlim_max));
  }
  limit.rlim_cur = needed;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    throw std::system_error(errno, std::system_category(), "setrlimit(RLIMIT_NOFILE)");
  }
}

// Owns the client threads: whatever happens, stops and joins them.
class WorkerThreads {
 public:
  explicit WorkerThreads(RunControl& control) : control_(control) {}
  ~WorkerThreads() { stop_and_join(); }
  WorkerThreads(const WorkerThreads&) = delete;
  WorkerThreads& operator=(const WorkerThreads&) = delete;

  void start(std::unique_ptr<LoadWorker> worker, std::optional<int> core) {
    workers_.push_back(std::move(worker));
    LoadWorker* w = workers_.back().get();
    threads_.emplace_back([w] { w->run(); });
    if (core) pin(threads_.back(), *core);
  }

  void stop_and_join() noexcept {
    if (control_.phase() != RunPhase::stop) control_.advance(RunPhase::stop);
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  const std::vector<std::unique_ptr<LoadWorker>>& workers() const noexcept { return workers_; }

  Progress progress(Progress::Phase phase, Clock::time_point since) const {
    Progress p;
    p.phase = phase;
    p.elapsed_seconds = std::chrono::duration<double>(Clock::now() - since).count();
    for (const auto& w : workers_) {
      p.requests += w->live_requests();
      p.errors += w->live_errors();
      p.connections_alive += w->live_connections();
    }
    if (phase == Progress::Phase::warmup) p.requests = 0;
    if (p.elapsed_seconds > 0) p.requests_per_second = static_cast<double>(p.requests) / p.elapsed_seconds;
    return p;
  }

 private:
  RunControl& control_;
  std::vector<std::unique_ptr<LoadWorker>> workers_;
  std::vector<std::thread> threads_;
};

// Waits until `until` (or every worker has stopped counting), reporting
// progress every kProgressEvery. Returns true if the workers all stopped.
bool wait_phase(RunControl& control, const WorkerThreads& threads, const LoadOptions& options,
                Progress::Phase phase, Clock::time_point since, Clock::time_point until) {
  for (;;) {
    const auto next = std::min(until, Clock::now() + kProgressEvery);
    if (control.wait_all_finished(next)) return true;
    if (Clock::now() >= until) return false;
    if (options.on_progress) options.on_progress(threads.progress(phase, since));
  }
}

Clock::duration to_clock(std::chrono::duration<double> d) {
  return std::chrono::duration_cast<Clock::duration>(d);
}

double to_us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::vector<std::string> error_lines(const std::map<std::string, std::uint64_t>& errors) {
  std::vector<std::pair<std::string, std::uint64_t>> sorted(errors.begin(), errors.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::vector<std::string> lines;
  for (const auto& [message, count] : sorted) {
    lines.push_back(count == 1 ? message : fmt::format("{} (×{})", message, count));
  }
  return lines;
}

}  // namespace

LoadResult run_load(const LoadOptions& options) {
  check_options(options);
  const auto address = loopback_address(options.host, options.port);
  if (!address) {
    throw std::invalid_argument(fmt::format(
        "'{}' is not a loopback address: weft load only loads this machine "
        "(127.0.0.0/8, ::1 or localhost)",
        options.host));
  }
  const int threads = std::min(options.threads, options.connections);
  if (options.cpu) check_cores(*options.cpu, threads);
  if (options.server_pid && !read_process_cpu(*options.server_pid)) {
    throw std::invalid_argument(
        fmt::format("cannot read the CPU time of server pid {} (/proc/{}/stat)",
                    *options.server_pid, *options.server_pid));
  }
  ensure_descriptors(options.connections);

  const bool limited = options.requests.has_value();
  const auto budget = limited ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                                    *options.requests, std::numeric_limits<std::int64_t>::max()))
                              : std::int64_t{0};
  RunControl control(threads, budget, limited);
  WorkerThreads workers(control);

  const auto started = Clock::now();
  WorkerSetup setup;
  setup.address = *address;
  setup.protocol = options.protocol;
  setup.message_size = options.message_size;
  setup.pipeline = options.pipeline;
  setup.verify = options.verify;
  setup.stalled_after_ns = static_cast<std::uint64_t>(std::max(0.0, options.stalled_after.count()) * 1e9);
  setup.retry_refused_until = started + kRetryRefusedFor;
  setup.connect_deadline = started + kConnectTimeout;
  setup.hard_deadline = setup.connect_deadline + to_clock(options.warmup) +
                        to_clock(options.duration) + std::chrono::seconds(30);
  int first = 0;
  for (int i = 0; i < threads; ++i) {
    setup.first_connection = first;
    setup.connections = options.connections / threads + (i < options.connections % threads ? 1 : 0);
    first += setup.connections;
    workers.start(std::make_unique<LoadWorker>(setup, control),
                  options.cpu ? std::optional<int>(*options.cpu + i) : std::nullopt);
  }

  // Connect: the workers give up by connect_deadline on their own.
  control.wait_all_connected(setup.connect_deadline + std::chrono::seconds(5));
  int connected = 0;
  for (const auto& w : workers.workers()) connected += w->live_connections();

  std::optional<ProcessCpu> server_begin;
  std::uint64_t measure_begin_ns = 0;
  bool measured = false;
  if (connected > 0) {
    const auto warmup_begin = Clock::now();
    control.advance(RunPhase::warmup);
    const bool all_stopped = options.warmup.count() > 0 &&
                             wait_phase(control, workers, options, Progress::Phase::warmup,
                                        warmup_begin, warmup_begin + to_clock(options.warmup));
    if (!all_stopped) {
      if (options.on_measure_begin) options.on_measure_begin();
      if (options.server_pid) server_begin = read_process_tree_cpu(*options.server_pid);
      const auto measure_begin = Clock::now();
      measure_begin_ns = monotonic_ns();
      control.advance(RunPhase::measure);
      measured = true;
      wait_phase(control, workers, options, Progress::Phase::measure, measure_begin,
                 measure_begin + to_clock(options.duration));
    }
  }
  std::optional<ProcessCpu> server_end;
  if (measured && options.server_pid) server_end = read_process_tree_cpu(*options.server_pid);
  if (measured && options.on_measure_end) options.on_measure_end();
  const std::uint64_t stop_ns = monotonic_ns();
  workers.stop_and_join();

  LoadResult result;
  result.threads = threads;
  LatencyHistogram histogram;
  std::map<std::string, std::uint64_t> errors;
  std::uint64_t measure_end_ns = 0;
  for (const auto& w : workers.workers()) {
    histogram.merge(w->histogram());
    result.requests += w->requests();
    result.bytes += w->bytes();
    result.client_cpu_seconds += w->cpu_seconds();
    result.connections += w->connected();
    result.connections_lost += w->lost();
    result.connections_idle += w->idle();
    result.requests_stalled += w->stalled();
    result.oldest_stalled_seconds = std::max(result.oldest_stalled_seconds, w->oldest_stalled_seconds());
    if (w->measured()) measure_end_ns = std::max(measure_end_ns, w->measure_end_ns());
    for (const auto& [message, count] : w->errors()) {
      errors[message] += count;
      result.errors += count;
    }
  }
  if (measured) {
    if (measure_end_ns == 0) measure_end_ns = stop_ns;
    result.seconds = static_cast<double>(measure_end_ns - std::min(measure_end_ns, measure_begin_ns)) / 1e9;
  }
  if (result.seconds > 0) {
    result.requests_per_second = static_cast<double>(result.requests) / result.seconds;
    result.client_saturated =
        result.client_cpu_seconds / (result.seconds * threads) > kSaturated;
  }
  result.mean_us = histogram.mean() / 1000.0;
  result.p50_us = to_us(histogram.value_at_percentile(50.0));
  result.p99_us = to_us(histogram.value_at_percentile(99.0));
  result.p999_us = to_us(histogram.value_at_percentile(99.9));
  result.max_us = to_us(histogram.max());
  result.error_messages = error_lines(errors);

  if (result.connections_idle > 0) {
    result.warnings.push_back(fmt::format("{} of {} connections completed no request in the measured window",
                                          result.connections_idle, result.connections));
  }
  if (result.requests_stalled > 0) {
    result.warnings.push_back(fmt::format("{} requests unanswered for over {:.2f} s at the end of the window "
                                          "(the oldest for {:.2f} s)",
                                          result.requests_stalled, options.stalled_after.count(),
                                          result.oldest_stalled_seconds));
  }
  if (options.server_pid && measured) {
    if (server_begin && server_end) {
      result.server_cpu_seconds = server_end->total_seconds() - server_begin->total_seconds();
      if (result.requests > 0) {
        result.server_cpu_us_per_request =
            *result.server_cpu_seconds * 1e6 / static_cast<double>(result.requests);
      }
    } else {
      result.warnings.push_back(fmt::format(
          "could not sample the CPU time of server pid {} (did it exit?)", *options.server_pid));
    }
  }
  return result;
}

}  // namespace weft::tool
