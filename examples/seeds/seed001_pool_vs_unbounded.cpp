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
// weft::active_count() inside the tasks. "About one sleep" for the thread
// per task is the time from the moment its last thread was started to the
// end of the last task's sleep: creating 400 threads, and their exits,
// take a while of their own (longer under a sanitizer or on a busy
// machine), but no task waits for another, so the sleeps end about one
// sleep after the last start: about 1.2 sleeps on an idle machine. On a
// busy one a new thread may first run much later (several sleeps under a
// sanitizer with other tests running), so the check asks for less than 10
// sleeps — half of the 20 that waiting in rounds, as the pool's tasks do,
// takes.
//
// Time: one seed second is 25 ms, so time.sleep(2) is 50 ms, and the
// pool's 20 rounds take a second.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include <weft/futures.hpp>
#include <weft/mp/cpu_count.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 25ms;
constexpr int kTasks = 400;
constexpr int kPoolSize = 20;

using Clock = std::chrono::steady_clock;

std::atomic<std::size_t> peak_threads{0};
std::atomic<Clock::rep> last_sleep_end{0};  // Clock ticks since its epoch

template <class T>
void raise_to(std::atomic<T>& most, T value) {
  T seen = most.load();
  while (value > seen && !most.compare_exchange_weak(seen, value)) {
  }
}

void work() {
  raise_to(peak_threads, weft::active_count());
  std::this_thread::sleep_for(2 * kSeedSecond);
  raise_to(last_sleep_end, Clock::now().time_since_epoch().count());
}

struct Outcome {
  double millis;
  std::size_t peak;
  double all_started_millis;     // when run() said it had started every task
  double last_sleep_end_millis;  // when the last task's sleep ended
};

double millis_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

// run(all_started) calls all_started() once every task is started.
template <class Run>
Outcome measure(Run run) {
  peak_threads = 0;
  last_sleep_end = 0;
  const auto start = Clock::now();
  auto all_started = start;
  run([&] { all_started = Clock::now(); });
  const auto end = Clock::now();
  const Clock::time_point slept{Clock::duration(last_sleep_end.load())};
  return {millis_between(start, end), peak_threads.load(), millis_between(start, all_started),
          millis_between(start, slept)};
}

int main() {
  std::printf("cpu count: %zu\n", weft::mp::cpu_count());  // print(os.cpu_count())

  const Outcome unbounded = measure([](auto all_started) {
    std::vector<std::unique_ptr<weft::Thread>> threads;
    for (int i = 0; i < kTasks; ++i) {
      threads.push_back(std::make_unique<weft::Thread>(work));
      threads.back()->start();
    }
    all_started();
    for (auto& t : threads) t->join();
  });

  const Outcome pooled = measure([](auto all_started) {
    weft::futures::ThreadPoolExecutor pool(kPoolSize);
    for (int i = 0; i < kTasks; ++i) pool.submit(work);
    all_started();
    pool.shutdown();
  });

  const double sleep_millis = std::chrono::duration<double, std::milli>(2 * kSeedSecond).count();
  std::printf("%-28s %10s %14s\n", "400 x sleep(2)", "run time", "peak threads");
  std::printf("%-28s %7.0f ms %14zu   (the last thread started after %.0f ms, the last sleep "
              "ended after %.0f ms)\n",
              "one thread per task", unbounded.millis, unbounded.peak, unbounded.all_started_millis,
              unbounded.last_sleep_end_millis);
  std::printf("%-28s %7.0f ms %14zu\n", "ThreadPoolExecutor(20)", pooled.millis, pooled.peak);

  seed::check(pooled.peak <= kPoolSize + 1, "the pool never ran more than 20 workers (+ the main thread)");
  seed::check(unbounded.peak > kPoolSize + 1, "one thread per task had far more threads alive at once");
  seed::check(unbounded.last_sleep_end_millis - unbounded.all_started_millis < 10 * sleep_millis,
              "one thread per task took about one sleep once its threads were started: no task "
              "waited for another");
  seed::check(pooled.millis >= (kTasks / kPoolSize) * sleep_millis - 5,
              "the pool needed 20 rounds of sleeps: bounded concurrency costs time");
  return seed::verdict();
}
