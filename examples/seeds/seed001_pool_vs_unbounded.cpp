// Seed 001, "5. 进程池和线程池": can we open processes or threads without
// limit? Technically yes, and it is fast — but the hardware cannot follow;
// a pool opens a fixed number in advance and reuses them, trading some
// speed for the machine's safety. The seed's companion program starts 400
// workers that each sleep 2 s (IO-bound: time.sleep).
//
// Shows both sides with 400 IO-bound tasks: one weft::Thread per task (the
// unbounded way: 400 threads alive at once, done in about one sleep) and a
// ThreadPoolExecutor of 20 (never more than 20 workers, 20 rounds of
// sleeps), and prints the table. The peak of live threads is measured with
// weft::active_count() inside the tasks.
//
// Time: one seed second is 10 ms, so time.sleep(2) is 20 ms.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 10ms;
constexpr int kTasks = 400;
constexpr int kPoolSize = 20;

std::atomic<std::size_t> peak_threads{0};

void work() {
  const std::size_t alive = weft::active_count();
  std::size_t peak = peak_threads.load();
  while (alive > peak && !peak_threads.compare_exchange_weak(peak, alive)) {
  }
  std::this_thread::sleep_for(2 * kSeedSecond);
}

struct Outcome {
  long long millis;
  std::size_t peak;
};

template <class Run>
Outcome measure(Run run) {
  peak_threads = 0;
  const auto start = std::chrono::steady_clock::now();
  run();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  return {std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count(), peak_threads.load()};
}

int main() {
  std::printf("cpu count: %u\n", std::thread::hardware_concurrency());

  const Outcome unbounded = measure([] {
    std::vector<std::unique_ptr<weft::Thread>> threads;
    for (int i = 0; i < kTasks; ++i) {
      threads.push_back(std::make_unique<weft::Thread>(work));
      threads.back()->start();
    }
    for (auto& t : threads) t->join();
  });

  const Outcome pooled = measure([] {
    weft::futures::ThreadPoolExecutor pool(kPoolSize);
    for (int i = 0; i < kTasks; ++i) pool.submit(work);
    pool.shutdown();
  });

  std::printf("%-28s %10s %14s\n", "400 x sleep(2)", "run time", "peak threads");
  std::printf("%-28s %7lld ms %14zu\n", "one thread per task", unbounded.millis, unbounded.peak);
  std::printf("%-28s %7lld ms %14zu\n", "ThreadPoolExecutor(20)", pooled.millis, pooled.peak);

  seed::check(pooled.peak <= kPoolSize + 1, "the pool never ran more than 20 workers (+ the main thread)");
  seed::check(unbounded.peak > kPoolSize + 1, "one thread per task had far more threads alive at once");
  seed::check(pooled.millis >= (kTasks / kPoolSize) * 2 * kSeedSecond.count() - 5,
              "the pool needed 20 rounds of sleeps: bounded concurrency costs time");
  return seed::verdict();
}
