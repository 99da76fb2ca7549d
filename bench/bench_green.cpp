// bench_green — weft::green's greenlets and hub against their peers, side by
// side.
//
// Measures:
//   switch/...       wall time per switch: the main greenlet and a child
//                    that switches straight back ping-pong, one switch each
//                    way per round trip (green::greenlet::switch_ both
//                    ways, no value); the child is started before the clock.
//   spawn_join/...   wall time per greenlet: spawn one whose body yields
//                    once (green::sleep(0)) and join it, one after another;
//                    one untimed spawn+join first makes the hub.
//   sleepers         memory, not time (printed after the ratio table):
//                    spawn N greenlets (--greenlets N, default 1,000,000)
//                    that each sleep for an hour, let every one of them run
//                    to its sleep, and read how much the resident set grew
//                    (/proc/self/statm), per greenlet; then killall() them.
//                    Each greenlet keeps its own stack, of which it touches
//                    a page or so; the stack pool carves unguarded stacks
//                    from shared slabs once vm.max_map_count's budget of
//                    guarded ones is spent, so the count is not bounded by
//                    the mapping limit. The page tables that map the stacks
//                    are not part of the resident set; their growth
//                    (VmPTE) is printed beside it.
//
// Peers, in the same run:
//   switch:      fcontext          Boost.Context's raw make_fcontext /
//                                  jump_fcontext on a malloc'd stack, the
//                                  same ping-pong (what weft's switch is
//                                  built on);
//                python_greenlet   Python's greenlet module, the same
//                                  ping-pong (bench/python/green.py), fewer
//                                  switches.
//   spawn_join:  boost_fiber       boost::fibers::fiber (default stack
//                                  allocator and scheduler) whose body calls
//                                  boost::this_fiber::yield(), then join();
//                gevent            gevent.spawn(task).join() with
//                                  gevent.sleep(0) in task, fewer greenlets.
//
// Targets: a switch within 1.2x raw fcontext and >= 25x faster than
// Python's greenlet; spawn+join >= 10x faster than Boost.Fiber and >= 50x
// faster than gevent; sleepers <= 4.5 GiB for a million (4.7 KiB each).
//
// Run: bench_green [--quick] [--greenlets N] [--benchmark_* flags];
// WEFT_BENCH_QUICK=1 is the same as --quick (and makes the default N
// 10,000); --greenlets 0 skips the sleepers. WEFT_PYTHON picks the Python
// interpreter (default /usr/bin/python3 when it exists; the peers need its
// greenlet and gevent modules).
#include <boost/context/detail/fcontext.hpp>
#include <boost/fiber/all.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bench_support.hpp"
#include "weft/gevent.hpp"
#include "weft/greenlet.hpp"

namespace {

namespace green = weft::green;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ------------------------------------------------------------------ switch

// `items` switches: items / 2 round trips between the main greenlet and a
// child that switches straight back.
double weft_switch(std::int64_t items) {
  green::greenlet main = green::getcurrent();
  bool running = true;
  green::greenlet pong([&main, &running] {
    while (running) main.switch_();
  });
  pong.switch_();  // starts it; it switches straight back
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items / 2; ++i) pong.switch_();
  const double seconds = seconds_since(start);
  running = false;
  pong.switch_();
  if (!pong.dead()) throw std::runtime_error("the child greenlet did not finish");
  return seconds;
}

namespace fcontext = boost::context::detail;

void fcontext_pong(fcontext::transfer_t from) {
  while (true) from = fcontext::jump_fcontext(from.fctx, nullptr);
}

// The same ping-pong on raw fcontext. The child never returns; its stack
// holds nothing to destroy, so it is simply freed.
double fcontext_switch(std::int64_t items) {
  constexpr std::size_t kStackSize = 64 * 1024;
  const std::unique_ptr<char, decltype(&std::free)> stack(
      static_cast<char*>(std::malloc(kStackSize)), &std::free);
  if (!stack) throw std::bad_alloc();
  fcontext::fcontext_t child = fcontext::make_fcontext(stack.get() + kStackSize, kStackSize, fcontext_pong);
  child = fcontext::jump_fcontext(child, nullptr).fctx;  // starts it
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items / 2; ++i) child = fcontext::jump_fcontext(child, nullptr).fctx;
  return seconds_since(start);
}

// -------------------------------------------------------------- spawn+join

double weft_spawn_join(std::int64_t items) {
  std::int64_t done = 0;
  auto task = [&done] {
    green::sleep(0s);
    ++done;
  };
  green::spawn(task).join();  // makes the hub
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i) green::spawn(task).join();
  const double seconds = seconds_since(start);
  if (done != items + 1) throw std::runtime_error("greenlets lost or run twice");
  return seconds;
}

double fiber_spawn_join(std::int64_t items) {
  std::int64_t done = 0;
  auto task = [&done] {
    boost::this_fiber::yield();
    ++done;
  };
  boost::fibers::fiber(task).join();
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i) boost::fibers::fiber(task).join();
  const double seconds = seconds_since(start);
  if (done != items + 1) throw std::runtime_error("fibers lost or run twice");
  return seconds;
}

// ---------------------------------------------------------------- sleepers

// The process's page tables (VmPTE of /proc/self/status), in bytes; 0 if
// the kernel does not say.
std::int64_t page_table_bytes() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmPTE:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  return 0;
}

struct Sleepers {
  std::int64_t count = 0;
  std::int64_t resident_growth = 0;
  std::int64_t page_table_growth = 0;
  double spawn_seconds = 0;  // spawning them all (none has run yet)
  double park_seconds = 0;   // until every one was asleep
  double kill_seconds = 0;   // killall(), blocking until all are dead
  std::string error;         // empty when the run went as planned
};

constexpr auto kLongSleep = 3600s;

Sleepers run_sleepers(std::int64_t count) {
  Sleepers result;
  result.count = count;
  green::sleep(0s);  // makes the hub, so that its own memory is not counted
  const std::int64_t resident_before = weft_bench::resident_bytes();
  const std::int64_t page_tables_before = page_table_bytes();

  std::vector<green::AnyGreenlet> sleepers;
  sleepers.reserve(static_cast<std::size_t>(count));
  std::int64_t asleep = 0;
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < count; ++i)
    sleepers.push_back(green::spawn([&asleep] {
      ++asleep;
      green::sleep(kLongSleep);
    }));
  result.spawn_seconds = seconds_since(start);
  green::sleep(0s);  // every greenlet already scheduled runs to its sleep first
  result.park_seconds = seconds_since(start);

  result.resident_growth = weft_bench::resident_bytes() - resident_before;
  result.page_table_growth = page_table_bytes() - page_tables_before;
  if (asleep != count) result.error = std::to_string(asleep) + " of them were asleep when measured";

  const auto kill_start = Clock::now();
  green::killall(sleepers);
  result.kill_seconds = seconds_since(kill_start);
  const auto alive = std::count_if(sleepers.begin(), sleepers.end(),
                                   [](const green::AnyGreenlet& g) { return !g.ready(); });
  if (alive != 0 && result.error.empty())
    result.error = std::to_string(alive) + " of them were still alive after killall()";
  return result;
}

void print_sleepers(const Sleepers& sleepers) {
  constexpr double kMiB = 1024.0 * 1024.0;
  // 4.5 GiB for a million greenlets: 4,832 bytes (4.7 KiB) each.
  constexpr double kTargetPerGreenlet = 4.5 * 1024 * kMiB / 1e6;
  const double per_greenlet =
      static_cast<double>(sleepers.resident_growth) / static_cast<double>(sleepers.count);
  std::printf("\nsleepers: %lld greenlets each in green::sleep(%llds)%s\n",
              static_cast<long long>(sleepers.count), static_cast<long long>(kLongSleep.count()),
              weft_bench::settings().quick ? " (quick mode: numbers not meaningful)" : "");
  std::printf("  spawned in %.3f s, all asleep after %.3f s, killall() took %.3f s\n",
              sleepers.spawn_seconds, sleepers.park_seconds, sleepers.kill_seconds);
  std::printf("  resident set grew by %.1f MiB: %.0f bytes per greenlet   target <= %.0f bytes "
              "(4.5 GiB per million)   met: %s\n",
              static_cast<double>(sleepers.resident_growth) / kMiB, per_greenlet, kTargetPerGreenlet,
              per_greenlet <= kTargetPerGreenlet ? "yes" : "NO");
  std::printf("  page tables grew by %.1f MiB more (VmPTE, outside the resident set): %.0f bytes "
              "per greenlet\n",
              static_cast<double>(sleepers.page_table_growth) / kMiB,
              static_cast<double>(sleepers.page_table_growth) / static_cast<double>(sleepers.count));
  if (!sleepers.error.empty()) std::printf("  failed: %s\n", sleepers.error.c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (::access("/usr/bin/python3", X_OK) == 0) ::setenv("WEFT_PYTHON", "/usr/bin/python3", 0);
  weft_bench::init(argc, argv);
  std::int64_t greenlets = 0;
  try {
    greenlets = weft_bench::take_count_option(argc, argv, "--greenlets", weft_bench::items(1'000'000, 10'000));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_green: %s\n", error.what());
    return 2;
  }

  // First, in a process that has run nothing else yet.
  std::optional<Sleepers> sleepers;
  if (greenlets > 0) sleepers = run_sleepers(greenlets);

  const std::string sw = "switch/";
  const std::int64_t switches = weft_bench::items(20'000'000, 20'000);
  weft_bench::add_batch(sw + "weft", switches, weft_switch);
  weft_bench::add_batch(sw + "fcontext", switches, fcontext_switch);
  weft_bench::add_python(sw + "python_greenlet", "green.py", weft_bench::items(2'000'000, 2'000),
                         {"switch"});

  const std::string sj = "spawn_join/";
  const std::int64_t spawns = weft_bench::items(500'000, 2'000);
  weft_bench::add_batch(sj + "weft", spawns, weft_spawn_join);
  weft_bench::add_batch(sj + "boost_fiber", spawns, fiber_spawn_join);
  weft_bench::add_python(sj + "gevent", "green.py", weft_bench::items(20'000, 200), {"spawn_join"});

  const int status = weft_bench::run_and_report(
      argc, argv,
      {
          {sw + "weft", sw + "fcontext", 1.2, "within 1.2x fcontext"},
          {sw + "weft", sw + "python_greenlet", 1.0 / 25, ">= 25x faster"},
          {sj + "weft", sj + "boost_fiber", 1.0 / 10, ">= 10x faster"},
          {sj + "weft", sj + "gevent", 1.0 / 50, ">= 50x faster"},
      },
      {"switch: per switch, two per round trip; spawn_join: per greenlet (or fiber)",
       "python_greenlet and gevent run fewer items; per-item times are compared"});
  if (sleepers) print_sleepers(*sleepers);
  return status;
}
