// bench_futures — weft::futures::ThreadPoolExecutor against its peers, side
// by side.
//
// Measures:
//   pool_tiny_tasks/...   throughput of a 2-thread pool: the main thread
//                         submits N tiny tasks (each increments one
//                         std::atomic) and waits until all have run; per
//                         item = elapsed / N. weft drops each returned
//                         Future at once (fire and forget) and waits with
//                         shutdown(wait = true). The pools are built and
//                         both threads started (a warm-up task on each)
//                         before the clock starts; the counter is checked.
//   submit_result/...     round-trip latency, one task at a time: submit a
//                         trivial function returning an int and block on
//                         its result before submitting the next, in a loop
//                         timed by Google Benchmark (the pool is built
//                         before the loop).
//
// Peers, in the same run:
//   pool_tiny_tasks:  tbb_task_group   oneTBB tbb::task_group run() + wait()
//                                      inside a tbb::task_arena(2) (the
//                                      main thread and one TBB worker run
//                                      the tasks during wait());
//                     asio_thread_pool boost::asio::thread_pool(2),
//                                      boost::asio::post() then join();
//                     python           concurrent.futures.ThreadPoolExecutor(2)
//                                      submitting the same tiny function
//                                      (bench/python/futures_bench.py),
//                                      fewer tasks.
//   submit_result:    std_async        std::async(std::launch::async) +
//                                      get() (libstdc++ starts a thread per
//                                      call);
//                     asio_thread_pool boost::asio::post() of a
//                                      std::packaged_task to a
//                                      thread_pool(1), then future::get();
//                     python           ThreadPoolExecutor(1)
//                                      .submit(f).result(), fewer rounds.
//   weft's round trip uses ThreadPoolExecutor(1) too.
//
// Targets: tiny-task throughput at least tbb::task_group's (time ratio
// <= 1.0) and >= 100x Python's. The round trip has no target.
//
// Run: bench_futures [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick, WEFT_PYTHON picks the Python interpreter.
#include <utility>  // before Boost.Asio: Debian's 1.74 needs it under GCC 12, C++20

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "weft/futures.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kThreads = 2;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A warm-up task: waits (up to a second) until `parties` of them run at
// once, so that a pool that starts its threads lazily has started them all
// before the clock starts.
class Rendezvous {
 public:
  explicit Rendezvous(int parties) : parties_(parties) {}
  void operator()() {
    arrived_.fetch_add(1, std::memory_order_acq_rel);
    const auto give_up = Clock::now() + std::chrono::seconds(1);
    while (arrived_.load(std::memory_order_acquire) < parties_ && Clock::now() < give_up)
      std::this_thread::yield();
  }

 private:
  const int parties_;
  std::atomic<int> arrived_{0};
};

void check_count(const std::atomic<std::int64_t>& counter, std::int64_t items) {
  if (counter.load() != items) throw std::runtime_error("tasks lost or run twice");
}

// ------------------------------------------------------ tiny-task throughput

double weft_tiny_tasks(std::int64_t items) {
  std::atomic<std::int64_t> counter{0};
  weft::futures::ThreadPoolExecutor pool(kThreads);
  {
    Rendezvous rendezvous(kThreads);
    std::vector<weft::futures::Future<void>> warm;
    for (int i = 0; i < kThreads; ++i) warm.push_back(pool.submit([&rendezvous] { rendezvous(); }));
    for (auto& future : warm) future.result();
  }

  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i)
    (void)pool.submit([&counter] { counter.fetch_add(1, std::memory_order_relaxed); });
  pool.shutdown(true);
  const double seconds = seconds_since(start);

  check_count(counter, items);
  return seconds;
}

double tbb_tiny_tasks(std::int64_t items) {
  std::atomic<std::int64_t> counter{0};
  tbb::task_arena arena(kThreads);
  arena.initialize();
  arena.execute([] {
    Rendezvous rendezvous(kThreads);
    tbb::task_group group;
    for (int i = 0; i < kThreads; ++i) group.run([&rendezvous] { rendezvous(); });
    group.wait();
  });

  const auto start = Clock::now();
  arena.execute([&] {
    tbb::task_group group;
    for (std::int64_t i = 0; i < items; ++i)
      group.run([&counter] { counter.fetch_add(1, std::memory_order_relaxed); });
    group.wait();
  });
  const double seconds = seconds_since(start);

  check_count(counter, items);
  return seconds;
}

double asio_tiny_tasks(std::int64_t items) {
  std::atomic<std::int64_t> counter{0};
  boost::asio::thread_pool pool(kThreads);
  {
    Rendezvous rendezvous(kThreads);
    std::latch done(kThreads);
    for (int i = 0; i < kThreads; ++i)
      boost::asio::post(pool, [&] {
        rendezvous();
        done.count_down();
      });
    done.wait();
  }

  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i)
    boost::asio::post(pool, [&counter] { counter.fetch_add(1, std::memory_order_relaxed); });
  pool.join();
  const double seconds = seconds_since(start);

  check_count(counter, items);
  return seconds;
}

// ---------------------------------------------------- submit/result round trip

int one() { return 1; }

void weft_round_trip(benchmark::State& state) {
  weft::futures::ThreadPoolExecutor pool(1);
  std::int64_t sum = 0;
  for (auto _ : state) sum += pool.submit(one).result();
  if (sum != static_cast<std::int64_t>(state.iterations())) state.SkipWithError("wrong results");
}

void std_async_round_trip(benchmark::State& state) {
  std::int64_t sum = 0;
  for (auto _ : state) sum += std::async(std::launch::async, one).get();
  if (sum != static_cast<std::int64_t>(state.iterations())) state.SkipWithError("wrong results");
}

void asio_round_trip(benchmark::State& state) {
  boost::asio::thread_pool pool(1);
  std::int64_t sum = 0;
  for (auto _ : state) {
    std::packaged_task<int()> task(one);
    std::future<int> result = task.get_future();
    boost::asio::post(pool, std::move(task));
    sum += result.get();
  }
  if (sum != static_cast<std::int64_t>(state.iterations())) state.SkipWithError("wrong results");
  pool.join();
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);

  const std::string tiny = "pool_tiny_tasks/";
  const std::int64_t tasks = weft_bench::items(1'000'000, 20'000);
  weft_bench::add_batch(tiny + "weft", tasks, weft_tiny_tasks);
  weft_bench::add_batch(tiny + "tbb_task_group", tasks, tbb_tiny_tasks);
  weft_bench::add_batch(tiny + "asio_thread_pool", tasks, asio_tiny_tasks);
  weft_bench::add_python(tiny + "python", "futures_bench.py", weft_bench::items(100'000, 2'000),
                         {"tiny", std::to_string(kThreads)});

  const std::string trip = "submit_result/";
  weft_bench::add_loop(trip + "weft", weft_round_trip);
  weft_bench::add_loop(trip + "std_async", std_async_round_trip);
  weft_bench::add_loop(trip + "asio_thread_pool", asio_round_trip);
  weft_bench::add_python(trip + "python", "futures_bench.py", weft_bench::items(20'000, 500),
                         {"roundtrip", "1"});

  return weft_bench::run_and_report(
      argc, argv,
      {
          {tiny + "weft", tiny + "tbb_task_group", 1.0, "<= 1.0x tbb::task_group"},
          {tiny + "weft", tiny + "asio_thread_pool", 0, ""},
          {tiny + "weft", tiny + "python", 0.01, ">= 100x faster"},
          {trip + "weft", trip + "std_async", 0, ""},
          {trip + "weft", trip + "asio_thread_pool", 0, ""},
          {trip + "weft", trip + "python", 0, ""},
      },
      {"pool_tiny_tasks: 2 threads per pool, started before the clock; weft and asio "
       "use 2 workers while the main thread submits, tbb's main thread is one of its 2",
       "python runs fewer tasks and round trips; per-item times are compared"});
}
