// Seed 001, 验证python多线程是否有用: IO-bound work (400 workers that each
// sleep 2 s) and CPU-bound work (6 workers that each multiply through 20
// million numbers), each run with processes and with threads, timed.
//
// In Python the GIL makes threads useless for the CPU-bound case (40 s+
// against 10 s+ for processes on four cores) while they win the IO-bound
// case (no process to create). In C++ there is no GIL: threads win the
// IO-bound case for the same reason, and on CPU-bound work they scale over
// the cores exactly as processes do. The twin prints the table.
//
// Sizes: 100 IO workers sleeping one seed second (20 ms); CPU workers do
// 20 million steps of a loop the compiler cannot fold away. Each row is
// the best of three runs.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <thread>

#include <weft/multiprocessing.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;
constexpr int kIoWorkers = 100;
constexpr int kCpuWorkers = 6;

void io_work() { std::this_thread::sleep_for(kSeedSecond); }

void cpu_work() {
  std::uint64_t res = 1;
  for (std::uint64_t i = 1; i <= 20'000'000; ++i) res = res * (i | 1) + (res >> 7);
  const volatile std::uint64_t sink = res;
  (void)sink;
}

template <class Worker>
double run_all(int count, void (*work)()) {
  const auto start = std::chrono::steady_clock::now();
  std::deque<Worker> workers;  // neither weft::Thread nor mp::Process needs to move in a deque
  for (int i = 0; i < count; ++i) workers.emplace_back(work).start();
  for (auto& w : workers) w.join();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The runs are short: the best of three keeps a busy neighbour (another
// test, a sanitizer's bookkeeping) from deciding the comparison.
template <class Worker>
double best_of_three(int count, void (*work)()) {
  return std::min({run_all<Worker>(count, work), run_all<Worker>(count, work),
                   run_all<Worker>(count, work)});
}

int main() {
  std::printf("cpu count: %ld\n", ::sysconf(_SC_NPROCESSORS_ONLN));
  // Processes first: forking once threads have run would only add Python's
  // multi-threaded-fork warning to the output.
  const double io_processes = best_of_three<mp::Process>(kIoWorkers, io_work);
  const double cpu_processes = best_of_three<mp::Process>(kCpuWorkers, cpu_work);
  const double io_threads = best_of_three<weft::Thread>(kIoWorkers, io_work);
  const double cpu_threads = best_of_three<weft::Thread>(kCpuWorkers, cpu_work);

  std::printf("%-22s %12s %12s\n", "run time (s)", "processes", "threads");
  std::printf("%-22s %12.3f %12.3f\n", "IO-bound  (100 x sleep)", io_processes, io_threads);
  std::printf("%-22s %12.3f %12.3f\n", "CPU-bound (6 x loop)", cpu_processes, cpu_threads);

  seed::check(io_threads < io_processes, "IO-bound: threads win, no process to create");
  seed::check(cpu_threads < cpu_processes * 1.3,
              "CPU-bound: without a GIL threads use every core, as processes do");
  return seed::verdict();
}
