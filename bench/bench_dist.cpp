// bench_dist — weft::dist::Executor, whose tasks go through one Redis to
// worker processes, against the local weft::futures::ProcessPoolExecutor,
// with the same number of workers and the same function, in the same run.
//
// Measures, for W = 1, 2 and 4 workers, as wall time per task:
//   trivial_wW/...    N tasks of inc(x) = x + 1 submitted at once, then
//                     every result waited for (tasks/s = 1 / time per task);
//   sleep1ms_wW/...   the same with a task that sleeps 1 ms first: the
//                     ideal is 1 ms / W per task, workers never idle.
// The executor is built and has run a few tasks before the clock starts;
// the clock runs from the first submission to the last result, and the sum
// of the results is checked.
//
// Printed after the ratio table:
//   latency           sequential submit -> result() round trips through
//                     one worker: p50 and p99, dist and local;
//   Redis load        for each trivial dist run, tasks/s; the CPU time of
//                     redis-server, of this process (the submitter) and of
//                     the W workers over the wall time (1.00 = one core
//                     busy); Redis commands and Redis CPU time per task:
//                     medians of the repetitions, and "Redis-bound" when
//                     Redis alone keeps >= 80% of a core busy.
//
// dist: one redis-server on a free loopback port, started by this program
// (tests/dist/redis_server.hpp; it needs redis-server on PATH, otherwise
// the dist side is skipped), and W workers per W, runs of this very
// executable that the weft::dist bootstrap turns into workers, each W on
// its own queue (so idle workers of another W never take its tasks),
// started once and killed at exit. local: futures::ProcessPoolExecutor(W),
// forkserver start method (this program runs threads, and fork would warn).
//
// Targets (dist/local time per task): none for trivial tasks — a Redis
// round trip per task cannot beat a local pipe, the table shows by how
// much; <= 1.1x for 1 ms tasks: dist keeps its workers as busy as the
// local pool does.
//
// Run: bench_dist [--quick] [--round-trips N] [--benchmark_* flags];
// WEFT_BENCH_QUICK=1 is the same as --quick.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "dist/redis_server.hpp"
#include "weft/dist.hpp"
#include "weft/futures/process_pool_executor.hpp"
#include "weft/mp/context.hpp"

namespace bench_dist {

int inc(int x) { return x + 1; }

int inc_after_1ms(int x) {
  std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return x + 1;
}

// The worker's process id, after holding the worker for `milliseconds`.
int own_pid(int milliseconds) {
  std::this_thread::sleep_for(std::chrono::milliseconds(milliseconds));
  return static_cast<int>(::getpid());
}

}  // namespace bench_dist

WEFT_DIST_TASK(bench_dist::inc);
WEFT_DIST_TASK(bench_dist::inc_after_1ms);
WEFT_DIST_TASK(bench_dist::own_pid);

namespace {

using namespace std::chrono_literals;
using bench_dist::inc;
using bench_dist::inc_after_1ms;
using Clock = std::chrono::steady_clock;
using Task = int (*)(int);

constexpr int kWorkerCounts[] = {1, 2, 4};
// The longest wait for one result: a run that loses a task fails instead
// of hanging.
constexpr auto kResultTimeout = 120s;
constexpr double kRedisBound = 0.8;  // of one core

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

// ------------------------------------------------------------- CPU time

// The CPU time (user + system) a process has used, in seconds, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks); 0 if it is gone.
double cpu_seconds(const std::string& pid) {
  std::ifstream stat("/proc/" + pid + "/stat");
  const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t paren = text.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(text.substr(paren + 1));
  std::string field;
  for (int index = 3; index < 14; ++index) fields >> field;  // state .. cmajflt
  long long utime = 0, stime = 0;
  if (!(fields >> utime >> stime)) return 0;
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double cpu_seconds(pid_t pid) { return cpu_seconds(std::to_string(pid)); }

// The commands a Redis server has processed since it started (INFO stats).
long long commands_processed(weft::dist::RedisConnection& redis) {
  const std::string info = redis.command({"INFO", "stats"}).str;
  constexpr std::string_view field = "total_commands_processed:";
  const std::size_t at = info.find(field);
  if (at == std::string::npos) throw std::runtime_error("INFO stats has no " + std::string(field));
  return std::atoll(info.c_str() + at + field.size());
}

// --------------------------------------------------------------- cluster

// The Redis server, and W workers on queue "bench_wW" for each W: started
// once, killed when the program ends.
class Cluster {
 public:
  struct Workers {
    std::string queue;
    std::vector<pid_t> pids;
  };

  // Starts everything and waits until every worker has answered a task.
  // Throws (std::runtime_error, a weft error) if redis-server is missing or
  // a worker does not come up.
  Cluster() {
    try {
      for (const int count : kWorkerCounts) start_workers(count);
      for (const auto& [count, workers] : workers_) wait_until_serving(workers);
    } catch (...) {
      kill_workers();
      throw;
    }
  }
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;
  ~Cluster() { kill_workers(); }

  std::string url() const { return redis_.url(); }
  pid_t redis_pid() const { return redis_.pid(); }
  // A connection for the statistics; one thread at a time.
  weft::dist::RedisConnection& stats() { return stats_; }
  const Workers& workers(int count) const { return workers_.at(count); }

 private:
  // Workers are forked from this (the main) thread, which lives as long as
  // they do: their parent-death signal follows the thread.
  void start_workers(int count) {
    weft::dist::WorkerOptions options;
    options.redis_url = redis_.url();
    options.queue = "bench_w" + std::to_string(count);
    Workers& workers = workers_[count];
    workers.queue = options.queue;
    for (int i = 0; i < count; ++i)
      workers.pids.push_back(
          weft::dist::detail::spawn_worker_process("/proc/self/exe", {}, options));
  }

  // Until every worker has answered a task: rounds of W tasks that each
  // hold a worker for a while, so that every idle worker takes one.
  void wait_until_serving(const Workers& workers) {
    weft::dist::Executor executor(redis_.url(), workers.queue);
    std::set<int> answered;
    const auto deadline = Clock::now() + 30s;
    while (answered.size() < workers.pids.size()) {
      if (Clock::now() > deadline)
        throw std::runtime_error("the workers of queue " + workers.queue +
                                 " did not all answer within 30 s");
      std::vector<weft::futures::Future<int>> pids;
      for (std::size_t i = 0; i < workers.pids.size(); ++i)
        pids.push_back(executor.submit(bench_dist::own_pid, 20));
      for (const auto& pid : pids) answered.insert(pid.result(30s));
    }
  }

  void kill_workers() noexcept {
    for (auto& [count, workers] : workers_) {
      for (const pid_t pid : workers.pids) ::kill(pid, SIGKILL);
      for (const pid_t pid : workers.pids) ::waitpid(pid, nullptr, 0);
      workers.pids.clear();
    }
  }

  weft::dist::testing::RedisServer redis_;
  weft::dist::RedisConnection stats_{weft::dist::RedisUrl::parse(redis_.url())};
  std::map<int, Workers> workers_;
};

// Set by main() when Redis and the workers are up.
Cluster* cluster = nullptr;

// What Redis, the submitter (this process) and the workers of a W had
// used at some moment.
struct Usage {
  Clock::time_point at;
  double redis_cpu = 0;  // seconds, as the next two
  double submitter_cpu = 0;
  double workers_cpu = 0;
  long long redis_commands = 0;
};

Usage usage(const Cluster::Workers& workers) {
  Usage now{Clock::now(), cpu_seconds(cluster->redis_pid()), cpu_seconds("self"), 0,
            commands_processed(cluster->stats())};
  for (const pid_t pid : workers.pids) now.workers_cpu += cpu_seconds(pid);
  return now;
}

// One trivial dist run, seen from Redis: who kept the CPUs busy (CPU
// seconds over wall seconds; 1 = one core) and what each task cost Redis.
struct RedisLoad {
  double tasks_per_second = 0;
  double redis = 0;
  double submitter = 0;
  double workers = 0;
  double commands_per_task = 0;
  double redis_cpu_per_task = 0;  // seconds
};

RedisLoad redis_load(const Usage& before, const Usage& after, std::int64_t tasks) {
  const double wall = std::chrono::duration<double>(after.at - before.at).count();
  const auto n = static_cast<double>(tasks);
  return {
      n / wall,
      (after.redis_cpu - before.redis_cpu) / wall,
      (after.submitter_cpu - before.submitter_cpu) / wall,
      (after.workers_cpu - before.workers_cpu) / wall,
      static_cast<double>(after.redis_commands - before.redis_commands - 1) / n,  // less our INFO
      (after.redis_cpu - before.redis_cpu) / n};
}

// Filled by the trivial dist runs, one entry per repetition, by W.
std::map<int, std::vector<RedisLoad>> trivial_loads;

// ------------------------------------------------------------------ runs

std::int64_t expected_sum(std::int64_t items) { return items * (items + 1) / 2; }

// Submits task(0..items-1) at once, then waits for every result; returns
// the seconds from the first submission to the last result.
template <class Executor>
double submit_all_then_wait(Executor& executor, Task task, std::int64_t items) {
  std::vector<weft::futures::Future<int>> futures;
  futures.reserve(static_cast<std::size_t>(items));
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i)
    futures.push_back(executor.submit(task, static_cast<int>(i)));
  std::int64_t total = 0;
  for (const auto& future : futures) total += future.result(kResultTimeout);
  const double seconds = seconds_since(start);
  if (total != expected_sum(items)) throw std::runtime_error("results lost, duplicated or wrong");
  return seconds;
}

// A few tasks per worker, untimed: connections made, workers started.
template <class Executor>
void warm_up(Executor& executor, int workers) {
  submit_all_then_wait(executor, inc_after_1ms, 2 * workers);
}

double dist_run(int worker_count, Task task, std::int64_t items) {
  const Cluster::Workers& workers = cluster->workers(worker_count);
  weft::dist::Executor executor(cluster->url(), workers.queue);
  warm_up(executor, worker_count);
  const Usage before = usage(workers);
  const double seconds = submit_all_then_wait(executor, task, items);
  if (task == inc) trivial_loads[worker_count].push_back(redis_load(before, usage(workers), items));
  return seconds;
}

weft::futures::ProcessPoolExecutor local_executor(int worker_count) {
  return weft::futures::ProcessPoolExecutor(
      weft::futures::ProcessPoolOptions{.max_workers = static_cast<std::size_t>(worker_count),
                                        .mp_context = weft::mp::get_context("forkserver")});
}

double local_run(int worker_count, Task task, std::int64_t items) {
  weft::futures::ProcessPoolExecutor executor = local_executor(worker_count);
  warm_up(executor, worker_count);
  return submit_all_then_wait(executor, task, items);
}

// Registers dist and local for one task shape and every W; returns the
// table's rows.
std::vector<weft_bench::Comparison> register_shape(const std::string& shape, Task task,
                                                   std::int64_t items,
                                                   const std::optional<std::string>& no_dist,
                                                   double max_ratio, const std::string& target) {
  std::vector<weft_bench::Comparison> rows;
  for (const int w : kWorkerCounts) {
    const std::string prefix = shape + "_w" + std::to_string(w) + "/";
    if (no_dist)
      weft_bench::skipped()[prefix + "dist"] = *no_dist;
    else
      weft_bench::add_batch(prefix + "dist", items,
                            [w, task](std::int64_t n) { return dist_run(w, task, n); });
    weft_bench::add_batch(prefix + "local", items,
                          [w, task](std::int64_t n) { return local_run(w, task, n); });
    rows.push_back({prefix + "dist", prefix + "local", max_ratio, target});
  }
  return rows;
}

// --------------------------------------------------------------- latency

struct Latency {
  std::vector<double> seconds;  // sorted
  std::string error;

  double percentile(double p) const {
    const auto rank = static_cast<std::size_t>(p / 100 * static_cast<double>(seconds.size()) + 0.5);
    return seconds[std::clamp<std::size_t>(rank, 1, seconds.size()) - 1];
  }
};

// `count` sequential submit -> result() round trips of inc, after a few
// untimed ones.
template <class Executor>
Latency round_trips(Executor& executor, std::int64_t count) {
  Latency latency;
  for (int i = 0; i < 10; ++i) executor.submit(inc, i).result(kResultTimeout);
  latency.seconds.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) {
    const auto start = Clock::now();
    if (executor.submit(inc, static_cast<int>(i)).result(kResultTimeout) != i + 1)
      throw std::runtime_error("a wrong result");
    latency.seconds.push_back(seconds_since(start));
  }
  std::sort(latency.seconds.begin(), latency.seconds.end());
  return latency;
}

template <class Measure>
Latency measure_latency(Measure measure) {
  try {
    return measure();
  } catch (const std::exception& error) {
    return Latency{{}, error.what()};
  }
}

void print_latency(const char* name, const Latency& latency) {
  if (latency.seconds.empty()) {
    std::printf("  %-6s %s\n", name,
                latency.error.empty() ? "not run" : ("failed: " + latency.error).c_str());
    return;
  }
  std::printf("  %-6s p50 %10s   p99 %10s\n", name,
              weft_bench::format_time(latency.percentile(50)).c_str(),
              weft_bench::format_time(latency.percentile(99)).c_str());
}

void report_latency(std::int64_t count, const std::optional<std::string>& no_dist) {
  if (count == 0) return;
  std::printf("\nlatency: %lld sequential submit -> result() round trips of inc, 1 worker%s\n",
              static_cast<long long>(count),
              weft_bench::settings().quick ? " (quick mode: numbers not meaningful)" : "");
  std::fflush(stdout);
  Latency dist;
  if (no_dist) {
    dist.error = "skipped: " + *no_dist;
  } else {
    dist = measure_latency([&] {
      weft::dist::Executor executor(cluster->url(), cluster->workers(1).queue);
      return round_trips(executor, count);
    });
  }
  const Latency local = measure_latency([&] {
    weft::futures::ProcessPoolExecutor executor = local_executor(1);
    return round_trips(executor, count);
  });
  print_latency("dist", dist);
  print_latency("local", local);
  if (!dist.seconds.empty() && !local.seconds.empty())
    std::printf("  dist/local: p50 %.1fx, p99 %.1fx\n", dist.percentile(50) / local.percentile(50),
                dist.percentile(99) / local.percentile(99));
  std::fflush(stdout);
}

// ------------------------------------------------------------ Redis load

// A column of the runs' figures, and its median.
template <class Field>
double median_of(const std::vector<RedisLoad>& runs, Field field) {
  std::vector<double> values;
  for (const RedisLoad& run : runs) values.push_back(field(run));
  return median(values);
}

void report_redis_load() {
  if (trivial_loads.empty()) return;
  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  std::printf(
      "\nRedis during the trivial dist runs (medians of the repetitions%s): CPU seconds / wall "
      "seconds, 1.00 = one core busy\n",
      weft_bench::settings().quick ? "; quick mode: numbers not meaningful" : "");
  std::printf("  %-3s %9s %7s %10s %8s %11s %7s %14s %14s\n", "W", "tasks/s", "redis", "submitter",
              "workers", "per worker", "all", "commands/task", "redis CPU/task");
  for (const auto& [w, runs] : trivial_loads) {
    const double redis = median_of(runs, [](const RedisLoad& r) { return r.redis; });
    const double workers = median_of(runs, [](const RedisLoad& r) { return r.workers; });
    const double all =
        median_of(runs, [](const RedisLoad& r) { return r.redis + r.submitter + r.workers; });
    const char* verdict = redis >= kRedisBound ? "Redis-bound"
                          : all >= 0.9 * cores ? "CPU-bound: every core busy, Redis below the line"
                                               : "not Redis-bound";
    std::printf("  %-3d %9.0f %7.2f %10.2f %8.2f %11.2f %7.2f %14.1f %14s   %s\n", w,
                median_of(runs, [](const RedisLoad& r) { return r.tasks_per_second; }), redis,
                median_of(runs, [](const RedisLoad& r) { return r.submitter; }), workers,
                workers / w, all,
                median_of(runs, [](const RedisLoad& r) { return r.commands_per_task; }),
                weft_bench::format_time(
                    median_of(runs, [](const RedisLoad& r) { return r.redis_cpu_per_task; }))
                    .c_str(),
                verdict);
  }
  std::printf(
      "  Redis-bound: redis-server (one thread) keeps >= %.0f%% of a core busy. CPU times are in "
      "clock ticks of %.0f ms.\n",
      kRedisBound * 100, 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK)));
  std::printf(
      "  %u cores here: with %d workers, the workers, the submitter and Redis compete for them.\n",
      cores, kWorkerCounts[std::size(kWorkerCounts) - 1]);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::int64_t round_trip_count = 0;
  try {
    round_trip_count =
        weft_bench::take_count_option(argc, argv, "--round-trips", weft_bench::items(2'000, 20));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_dist: %s\n", error.what());
    return 2;
  }

  std::unique_ptr<Cluster> started;
  std::optional<std::string> no_dist;
  try {
    started = std::make_unique<Cluster>();
    cluster = started.get();
  } catch (const std::exception& error) {
    no_dist = error.what();
    std::printf("dist skipped: %s\n", error.what());
  }

  std::vector<weft_bench::Comparison> rows =
      register_shape("trivial", inc, weft_bench::items(20'000, 200), no_dist, 0, "");
  for (weft_bench::Comparison& row : register_shape(
           "sleep1ms", inc_after_1ms, weft_bench::items(1'000, 20), no_dist, 1.1, "<= 1.1x slower"))
    rows.push_back(std::move(row));

  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  const int status = weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"weft = dist::Executor through one local redis-server; peer = local "
       "futures::ProcessPoolExecutor (forkserver), same W and function",
       "trivial: no target, every dist task costs Redis round trips that a local pipe does not",
       "sleep1ms: the ideal is 1 ms / W per task on both sides",
       std::to_string(cores) + " cores here: the workers, the submitter and Redis share them"});
  report_latency(round_trip_count, no_dist);
  report_redis_load();
  return status;
}
