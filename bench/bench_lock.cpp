// bench_lock — weft::Lock and weft::RLock, and the process-shared
// weft::mp::Lock and weft::mp::RLock, against their peers, side by side.
//
// Measures wall time per lock/unlock pair:
//   lock_uncontended/...   one thread, acquire + release of a free lock,
//                          in a loop timed by Google Benchmark;
//   lock_contended/...     two threads, each doing N rounds of lock,
//                          increment a shared counter, unlock (the counter
//                          is checked); per item = elapsed / 2N.
// The same for rlock_uncontended/... and rlock_contended/... (single-level
// acquisition; re-entry is not measured). weft's lock()/unlock() are the
// same inline calls as its Python-spelled acquire()/release().
//
// Peers, in the same run: std::mutex for weft::Lock, std::recursive_mutex
// for weft::RLock, and Python's threading.Lock / threading.RLock
// (bench/python/lock_bench.py; its time includes the interpreter's loop,
// which is what a Python program pays).
//
// weft::mp::Lock / RLock (mp_lock_..., mp_rlock_...) are measured the same
// way (two threads of one process when contended) against std::mutex /
// std::recursive_mutex, Python's multiprocessing.Lock / RLock, and
// weft::Lock / RLock: the price of living in shared memory and of being
// robust to a dead owner.
//
// Target: uncontended weft::Lock within 1.2x of std::mutex.
//
// Run: bench_lock [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick, WEFT_PYTHON picks the Python interpreter.
#include <chrono>
#include <cstdint>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "weft/mp/lock.hpp"
#include "weft/threading/lock.hpp"

namespace {

// Acquires and releases a free lock, once per benchmark iteration.
template <class Lock>
void uncontended(benchmark::State& state) {
  Lock lock;
  for (auto _ : state) {
    lock.lock();
    lock.unlock();
  }
}

// Two threads each do `items / 2` rounds of lock, increment, unlock on one
// lock; returns the seconds it took.
template <class Lock>
double contended(std::int64_t items) {
  Lock lock;
  std::int64_t counter = 0;
  std::latch go(1);
  const auto work = [&] {
    go.wait();
    for (std::int64_t i = 0; i < items / 2; ++i) {
      lock.lock();
      ++counter;
      lock.unlock();
    }
  };
  std::thread first(work), second(work);

  const auto start = std::chrono::steady_clock::now();
  go.count_down();
  first.join();
  second.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  if (counter != items / 2 * 2) throw std::runtime_error("lost increments: the lock is broken");
  return elapsed.count();
}

// Registers the uncontended and contended variants of weft's lock type and
// its C++ and Python peers; returns the rows of the ratio table.
template <class WeftLock, class StdLock>
std::vector<weft_bench::Comparison> register_kind(const std::string& kind,
                                                  const std::string& std_name,
                                                  const std::string& python_kind,
                                                  double uncontended_target,
                                                  const std::string& uncontended_target_text) {
  const std::string quiet = kind + "_uncontended/";
  const std::string busy = kind + "_contended/";
  const std::int64_t contended_items = weft_bench::items(4'000'000, 40'000);

  weft_bench::add_loop(quiet + "weft", uncontended<WeftLock>);
  weft_bench::add_loop(quiet + std_name, uncontended<StdLock>);
  weft_bench::add_python(quiet + "python", "lock_bench.py", weft_bench::items(2'000'000, 20'000),
                         {python_kind, "uncontended"});

  weft_bench::add_batch(busy + "weft", contended_items, contended<WeftLock>);
  weft_bench::add_batch(busy + std_name, contended_items, contended<StdLock>);
  weft_bench::add_python(busy + "python", "lock_bench.py", weft_bench::items(1'000'000, 20'000),
                         {python_kind, "contended"});

  return {
      {quiet + "weft", quiet + std_name, uncontended_target, uncontended_target_text},
      {quiet + "weft", quiet + "python", 0, ""},
      {busy + "weft", busy + std_name, 0, ""},
      {busy + "weft", busy + "python", 0, ""},
  };
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows =
      register_kind<weft::Lock, std::mutex>("lock", "std_mutex", "lock", 1.2, "<= 1.2x std::mutex");
  for (weft_bench::Comparison& row : register_kind<weft::RLock, std::recursive_mutex>(
           "rlock", "std_recursive_mutex", "rlock", 0, ""))
    rows.push_back(std::move(row));
  for (weft_bench::Comparison& row :
       register_kind<weft::mp::Lock, std::mutex>("mp_lock", "std_mutex", "mp_lock", 0, ""))
    rows.push_back(std::move(row));
  for (weft_bench::Comparison& row : register_kind<weft::mp::RLock, std::recursive_mutex>(
           "mp_rlock", "std_recursive_mutex", "mp_rlock", 0, ""))
    rows.push_back(std::move(row));
  for (const char* kind : {"lock", "rlock"}) {
    for (const char* load : {"_uncontended/", "_contended/"}) {
      const std::string threading = std::string(kind) + load + "weft";
      rows.push_back({"mp_" + threading, threading, 0, ""});
    }
  }
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"python runs fewer items and includes its interpreter loop; per-item times are compared"});
}
