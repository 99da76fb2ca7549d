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
// the best of three runs, and the runs are interleaved (processes, then
// threads, three times over) so that a busy neighbour — another test, a
// sanitizer's bookkeeping — weighs on both columns alike.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iterator>
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

// Threads of this process, as the kernel lists them.
long thread_count() {
  const std::filesystem::directory_iterator tasks("/proc/self/task");
  return static_cast<long>(std::distance(begin(tasks), end(tasks)));
}

// A joined weft::Thread has finished its target but may need a moment more
// to leave the kernel; forking before it has would add Python's
// multi-threaded-fork warning to the output. Waits (at most a second) until
// the process is back to `threads` threads.
void wait_for_threads_to_leave(long threads) {
  const auto give_up = std::chrono::steady_clock::now() + 1s;
  while (thread_count() > threads && std::chrono::steady_clock::now() < give_up)
    std::this_thread::yield();
}

struct Table {
  double io_processes = 1e9, io_threads = 1e9, cpu_processes = 1e9, cpu_threads = 1e9;
};

int main() {
  std::printf("cpu count: %zu\n", mp::cpu_count());  // print(os.cpu_count())
  const long threads_at_start = thread_count();
  Table best;
  for (int round = 0; round < 3; ++round) {
    best.io_processes = std::min(best.io_processes, run_all<mp::Process>(kIoWorkers, io_work));
    best.io_threads = std::min(best.io_threads, run_all<weft::Thread>(kIoWorkers, io_work));
    wait_for_threads_to_leave(threads_at_start);
    best.cpu_processes = std::min(best.cpu_processes, run_all<mp::Process>(kCpuWorkers, cpu_work));
    best.cpu_threads = std::min(best.cpu_threads, run_all<weft::Thread>(kCpuWorkers, cpu_work));
    wait_for_threads_to_leave(threads_at_start);
  }
  const auto [io_processes, io_threads, cpu_processes, cpu_threads] = best;

  std::printf("%-22s %12s %12s\n", "run time (s)", "processes", "threads");
  std::printf("%-22s %12.3f %12.3f\n", "IO-bound  (100 x sleep)", io_processes, io_threads);
  std::printf("%-22s %12.3f %12.3f\n", "CPU-bound (6 x loop)", cpu_processes, cpu_threads);

  seed::check(io_threads < io_processes, "IO-bound: threads win, no process to create");
  // A GIL would make the threads take about as long as one core doing all
  // six loops: twice the processes' time on two cores, more on more cores.
  // One core runs both one loop at a time, so there it shows nothing.
  if (mp::process_cpu_count() >= 2) {
    seed::check(cpu_threads < cpu_processes * 1.5,
                "CPU-bound: without a GIL threads use every core, as processes do");
  } else {
    std::printf("CPU-bound: one core, so threads and processes both run one loop at a time\n");
  }
  return seed::verdict();
}
