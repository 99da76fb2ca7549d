// bench_mp_manager — round trips to a manager's server, side by side:
// weft::mp::Manager against Python's multiprocessing.Manager().
//
// Measures: wall time per proxy operation (one round trip to the server)
// made by a child process through a proxy its parent created, with
//   manager_dict/...   d.setitem(i % 64, i), then d.getitem(i % 64)
//   manager_list/...   l.append(i)
//   manager_lock/...   lock.acquire(), then lock.release()
//   manager_value/...  v.set(i), then v.get()
// (paired operations count as two items). The manager and the proxy are
// made and the child has made one call before the clock starts; the child
// times its own loop and sends the seconds to the parent. Reads are
// checked against the writes, and the list's length at the end.
//
// Peers, in the same run: python (multiprocessing.Manager() with the fork
// start method, bench/python/mp_manager.py), fewer items.
//
// Target: weft >= 10x faster than Python per operation.
//
// Run: bench_mp_manager [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1
// is the same as --quick; WEFT_PYTHON picks the Python interpreter (default
// /usr/bin/python3 when it exists).
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_fork.hpp"
#include "bench_support.hpp"
#include "weft/mp/managers.hpp"

namespace {

namespace mp = weft::mp;

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kKeys = 64;


// Runs loop(2) (the child's connection is made there), then times
// loop(items) in a forked child and returns its seconds.
template <class Loop>
double timed_in_child(Loop loop, std::int64_t items) {
  std::array<int, 2> fds{};
  if (::pipe(fds.data()) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = weft_bench::fork_child([&] {
    ::close(fds[0]);
    loop(2);
    const auto start = Clock::now();
    loop(items);
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (::write(fds[1], &seconds, sizeof seconds) != sizeof seconds) throw std::runtime_error("write");
  });
  ::close(fds[1]);
  double seconds = 0;
  const bool got = ::read(fds[0], &seconds, sizeof seconds) == sizeof seconds;
  ::close(fds[0]);
  if (!weft_bench::child_succeeded(child) || !got) throw std::runtime_error("the child failed");
  return seconds;
}

double dict_round_trips(std::int64_t items) {
  mp::Manager manager;
  const auto d = manager.dict<std::int64_t, std::int64_t>();
  return timed_in_child(
      [&](std::int64_t n) {
        for (std::int64_t i = 0; i < n / 2; ++i) {
          d.setitem(i % kKeys, i);
          if (d.getitem(i % kKeys) != i) throw std::runtime_error("the dict lost a write");
        }
      },
      items);
}

double list_round_trips(std::int64_t items) {
  mp::Manager manager;
  const auto l = manager.list<std::int64_t>();
  const double seconds = timed_in_child(
      [&](std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) l.append(i);
      },
      items);
  if (static_cast<std::int64_t>(l.len()) != items + 2) throw std::runtime_error("the list lost appends");
  return seconds;
}

double lock_round_trips(std::int64_t items) {
  mp::Manager manager;
  const auto lock = manager.Lock();
  return timed_in_child(
      [&](std::int64_t n) {
        for (std::int64_t i = 0; i < n / 2; ++i) {
          lock.acquire();
          lock.release();
        }
      },
      items);
}

double value_round_trips(std::int64_t items) {
  mp::Manager manager;
  const auto v = manager.Value<std::int64_t>(0);
  return timed_in_child(
      [&](std::int64_t n) {
        for (std::int64_t i = 0; i < n / 2; ++i) {
          v.set(i);
          if (v.get() != i) throw std::runtime_error("the value lost a write");
        }
      },
      items);
}

std::vector<weft_bench::Comparison> register_shape(const std::string& mode, double (*weft)(std::int64_t)) {
  const std::string shape = "manager_" + mode + "/";
  const std::int64_t items = weft_bench::items(100'000, 1'000);
  const std::int64_t python_items = weft_bench::items(10'000, 500);
  weft_bench::add_batch(shape + "weft", items, weft);
  weft_bench::add_python(shape + "python", "mp_manager.py", python_items, {mode});
  return {{shape + "weft", shape + "python", 0.1, ">= 10x faster"}};
}

}  // namespace

int main(int argc, char** argv) {
  if (::access("/usr/bin/python3", X_OK) == 0) ::setenv("WEFT_PYTHON", "/usr/bin/python3", 0);
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows;
  const std::pair<const char*, double (*)(std::int64_t)> shapes[] = {
      {"dict", dict_round_trips},
      {"list", list_round_trips},
      {"lock", lock_round_trips},
      {"value", value_round_trips},
  };
  for (const auto& [mode, weft] : shapes)
    for (weft_bench::Comparison& row : register_shape(mode, weft)) rows.push_back(std::move(row));
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"an item is one proxy operation (one round trip) made by a child process",
       "python runs fewer items; per-item times are compared"});
}
