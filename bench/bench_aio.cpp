// bench_aio — weft::aio's tasks against their peers, side by side.
//
// Measures:
//   create_await/...   wall time per task: inside one running loop,
//                      `co_await aio::create_task(trivial(i))` one after
//                      another, where trivial is a coroutine returning i;
//                      the results are summed and checked.
//   gather_sleep0/...  wall time per task: `co_await aio::gather(coros)` of
//                      100,000 coroutines that each do
//                      `co_await aio::sleep(0s)` (gather makes each a task);
//                      the clock starts before the coroutines are made.
//                      Both sides run it cold: weft on a new loop, Python in
//                      a new process (a second gather in the same Python
//                      process is slower: its cyclic garbage collector then
//                      walks the first one's remains).
//   sleepers           memory, not time (printed after the ratio table):
//                      create N tasks (--sleepers N, default 1,000,000) that
//                      each sleep for an hour, keeping no handle (the loop
//                      keeps them alive), let every one of them reach its
//                      sleep, and read how much the resident set grew
//                      (/proc/self/statm), per task; then return from the
//                      main coroutine, so that aio::run's epilogue cancels
//                      them all, and check that every frame was freed. The
//                      peak resident set (VmHWM) shows what the cancellation
//                      cost on top.
//
// Peers, in the same run:
//   create_await:   asio             Boost.Asio's C++20 coroutines on an
//                                    io_context(1): `co_await
//                                    co_spawn(executor, trivial(i),
//                                    use_awaitable)`;
//                   python_asyncio   Python's asyncio, `await
//                                    asyncio.create_task(trivial(i))`
//                                    (bench/python/aio_bench.py), fewer
//                                    tasks.
//   gather_sleep0:  python_asyncio   asyncio.gather of as many coroutines
//                                    doing `await asyncio.sleep(0)`. (Asio
//                                    1.74 has no gather to compare with.)
//   sleepers:       Python's asyncio, tasks in asyncio.sleep(3600),
//                   100,000 of them, in its own process.
//
// Targets: create+await and gather >= 100x faster than Python's asyncio;
// ten million sleeping tasks in 2 GiB (<= 214 bytes each; check it with
// --sleepers 10000000, which needs about 2 GiB and half a minute).
//
// Run: bench_aio [--quick] [--sleepers N] [--benchmark_* flags];
// WEFT_BENCH_QUICK=1 is the same as --quick (and makes the default N
// 10,000); --sleepers 0 skips the sleepers. WEFT_PYTHON picks the Python
// interpreter (default: python3 on PATH).
#include <utility>  // before Boost.Asio: Debian's 1.74 needs it under GCC 12, C++20

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_support.hpp"
#include "weft/asyncio.hpp"

namespace {

namespace aio = weft::aio;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void check_sum(std::int64_t total, std::int64_t items) {
  if (total != items * (items - 1) / 2) throw std::runtime_error("a task's result was lost");
}

// ------------------------------------------------------------ create+await

aio::Task<std::int64_t> trivial(std::int64_t i) { co_return i; }

aio::Task<double> create_await_all(std::int64_t items) {
  std::int64_t total = 0;
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i) total += co_await aio::create_task(trivial(i));
  const double seconds = seconds_since(start);
  check_sum(total, items);
  co_return seconds;
}

double weft_create_await(std::int64_t items) { return aio::run(create_await_all(items)); }

asio::awaitable<std::int64_t> asio_trivial(std::int64_t i) { co_return i; }

asio::awaitable<void> asio_create_await_all(std::int64_t items, double& seconds) {
  const auto executor = co_await asio::this_coro::executor;
  std::int64_t total = 0;
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i)
    total += co_await asio::co_spawn(executor, asio_trivial(i), asio::use_awaitable);
  seconds = seconds_since(start);
  check_sum(total, items);
}

double asio_create_await(std::int64_t items) {
  asio::io_context context(1);
  double seconds = 0;
  asio::co_spawn(context, asio_create_await_all(items, seconds), [](std::exception_ptr error) {
    if (error) std::rethrow_exception(error);  // out of context.run()
  });
  context.run();
  return seconds;
}

// ------------------------------------------------------------ gather sleep(0)

aio::Task<void> yield_once(std::int64_t& done) {
  co_await aio::sleep(0s);
  ++done;
}

aio::Task<double> gather_yielders(std::int64_t items) {
  std::int64_t done = 0;
  const auto start = Clock::now();
  std::vector<aio::Task<void>> coros;
  coros.reserve(static_cast<std::size_t>(items));
  for (std::int64_t i = 0; i < items; ++i) coros.push_back(yield_once(done));
  co_await aio::gather(std::move(coros));
  const double seconds = seconds_since(start);
  if (done != items) throw std::runtime_error("tasks lost or run twice");
  co_return seconds;
}

double weft_gather_sleep0(std::int64_t items) { return aio::run(gather_yielders(items)); }

// ---------------------------------------------------------------- sleepers

// The process's peak resident set (VmHWM of /proc/self/status), in bytes;
// 0 if the kernel does not say.
std::int64_t peak_resident_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

struct Sleepers {
  std::int64_t count = 0;
  std::int64_t resident_growth = 0;
  std::int64_t peak_growth = 0;  // of VmHWM, over the whole run and its epilogue
  double create_seconds = 0;     // creating them all (none has run yet)
  double park_seconds = 0;       // until every one was asleep
  double close_seconds = 0;      // aio::run's epilogue: cancelling them, freeing them
  std::string error;             // empty when the run went as planned
};

constexpr auto kLongSleep = 3600s;

// How many sleepers reached their sleep. A global rather than a parameter,
// so that the frames measured hold nothing but the task and its sleep.
std::int64_t asleep = 0;

aio::Task<void> sleep_long() {
  ++asleep;
  co_await aio::sleep(kLongSleep);
}

// Returns when the main task ended: the epilogue starts there.
aio::Task<Clock::time_point> park_sleepers(Sleepers& result) {
  // One sleeper first, so that the loop's own structures are not counted.
  asleep = 0;
  aio::create_task(sleep_long());
  co_await aio::sleep(0s);
  const std::int64_t resident_before = weft_bench::resident_bytes();

  const auto start = Clock::now();
  for (std::int64_t i = 0; i < result.count; ++i) aio::create_task(sleep_long());
  result.create_seconds = seconds_since(start);
  co_await aio::sleep(0s);  // every task created runs to its sleep first
  result.park_seconds = seconds_since(start);
  result.resident_growth = weft_bench::resident_bytes() - resident_before;
  if (asleep != result.count + 1)
    result.error = std::to_string(asleep - 1) + " of them were asleep when measured";
  co_return Clock::now();
}

Sleepers run_sleepers(std::int64_t count) {
  Sleepers result;
  result.count = count;
  const long frames_before = aio::detail::live_frames();
  const std::int64_t peak_before = peak_resident_bytes();
  const Clock::time_point main_ended = aio::run(park_sleepers(result));
  result.close_seconds = seconds_since(main_ended);
  result.peak_growth = peak_resident_bytes() - peak_before;
  const long left = aio::detail::live_frames() - frames_before;
  if (left != 0 && result.error.empty())
    result.error = std::to_string(left) + " task frames were still alive after aio::run() returned";
  return result;
}

// Python's resident-set growth per sleeping task, from its own process.
struct PythonSleepers {
  std::int64_t count = 0;
  std::optional<double> bytes_per_task;
  std::string error;  // why there is no figure
};

PythonSleepers run_python_sleepers(std::int64_t count) {
  PythonSleepers result;
  result.count = count;
  if (!weft_bench::python().interpreter) {
    result.error = weft_bench::python().why_missing;
    return result;
  }
  try {
    std::istringstream lines(weft_bench::run_python_output("aio_bench.py", count, {"sleepers"}));
    for (std::string line; std::getline(lines, line);) {
      long long items = 0, growth = 0;
      if (std::sscanf(line.c_str(), "memory items=%lld resident_growth=%lld", &items, &growth) == 2 &&
          items == count)
        result.bytes_per_task = static_cast<double>(growth) / static_cast<double>(count);
    }
    if (!result.bytes_per_task) result.error = "aio_bench.py printed no memory line";
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  return result;
}

void print_sleepers(const Sleepers& sleepers, const PythonSleepers& python) {
  constexpr double kMiB = 1024.0 * 1024.0;
  // 2 GiB for ten million tasks: 214 bytes each.
  constexpr double kTargetPerTask = 2 * 1024 * kMiB / 1e7;
  const double count = static_cast<double>(sleepers.count);
  const double per_task = static_cast<double>(sleepers.resident_growth) / count;
  std::printf("\nsleepers: %lld tasks each in aio::sleep(%llds)%s\n",
              static_cast<long long>(sleepers.count), static_cast<long long>(kLongSleep.count()),
              weft_bench::settings().quick ? " (quick mode: numbers not meaningful)" : "");
  std::printf("  created in %.3f s, all asleep after %.3f s, aio::run's epilogue cancelled and freed "
              "them in %.3f s\n",
              sleepers.create_seconds, sleepers.park_seconds, sleepers.close_seconds);
  std::printf("  resident set grew by %.1f MiB: %.0f bytes per task   target <= %lld bytes "
              "(2 GiB per ten million)   met: %s\n",
              static_cast<double>(sleepers.resident_growth) / kMiB, per_task,
              static_cast<long long>(kTargetPerTask), per_task <= kTargetPerTask ? "yes" : "NO");
  std::printf("  peak resident set grew by %.1f MiB in all (the epilogue included): %.0f bytes per "
              "task\n",
              static_cast<double>(sleepers.peak_growth) / kMiB,
              static_cast<double>(sleepers.peak_growth) / count);
  if (python.bytes_per_task)
    std::printf("  vs python_asyncio: %.0f bytes per task (%lld tasks): weft uses %.1fx less\n",
                *python.bytes_per_task, static_cast<long long>(python.count),
                *python.bytes_per_task / per_task);
  else
    std::printf("  vs python_asyncio: skipped: %s\n", python.error.c_str());
  if (!sleepers.error.empty()) std::printf("  failed: %s\n", sleepers.error.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::int64_t sleeper_count = 0;
  try {
    sleeper_count =
        weft_bench::take_count_option(argc, argv, "--sleepers", weft_bench::items(1'000'000, 10'000));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_aio: %s\n", error.what());
    return 2;
  }

  // First, in a process that has run nothing else yet.
  std::optional<Sleepers> sleepers;
  std::optional<PythonSleepers> python_sleepers;
  if (sleeper_count > 0) {
    sleepers = run_sleepers(sleeper_count);
    python_sleepers = run_python_sleepers(weft_bench::items(100'000, 2'000));
  }

  const std::string ca = "create_await/";
  const std::int64_t creates = weft_bench::items(1'000'000, 2'000);
  weft_bench::add_batch(ca + "weft", creates, weft_create_await);
  weft_bench::add_batch(ca + "asio", creates, asio_create_await);
  weft_bench::add_python(ca + "python_asyncio", "aio_bench.py", weft_bench::items(100'000, 1'000),
                         {"create_await"});

  const std::string gs = "gather_sleep0/";
  const std::int64_t gathered = weft_bench::items(100'000, 1'000);
  weft_bench::add_batch(gs + "weft", gathered, weft_gather_sleep0);
  weft_bench::add_python(gs + "python_asyncio", "aio_bench.py", gathered, {"gather_sleep0"});

  const int status = weft_bench::run_and_report(
      argc, argv,
      {
          {ca + "weft", ca + "asio", 0, ""},
          {ca + "weft", ca + "python_asyncio", 1.0 / 100, ">= 100x faster"},
          {gs + "weft", gs + "python_asyncio", 1.0 / 100, ">= 100x faster"},
      },
      {"create_await: per task created and awaited; gather_sleep0: per task, 100,000 per gather",
       "python_asyncio runs fewer create+await tasks; per-task times are compared"});
  if (sleepers) print_sleepers(*sleepers, *python_sleepers);
  return status;
}
