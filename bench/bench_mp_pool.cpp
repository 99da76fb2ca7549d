// bench_mp_pool — process pools side by side: weft::mp::Pool and
// weft::futures::ProcessPoolExecutor against Python's multiprocessing.Pool
// and concurrent.futures.ProcessPoolExecutor, 2 fork-started workers each.
//
// Measures, as wall time per item:
//   pool_apply_async/...  N tasks of a trivial function (inc(x) = x + 1)
//                         submitted one by one, then every result waited
//                         for: Pool.apply_async + get(), and
//                         ProcessPoolExecutor.submit + result();
//   pool_map_chunk10000/..., pool_map_chunk100/...
//                         Pool.map(inc, 0..N-1, chunksize) over 1M ints,
//                         timed after one untimed map of the same size on
//                         both sides (a pool in its steady state, its
//                         buffers and heap already grown).
// The pool is built and each worker has run a task before the clock starts;
// the clock runs from the first submission to the last result, and the sum
// of the results is checked.
//
// Peers, in the same run (bench/python/mp_pool.py): python_pool
// (multiprocessing.Pool), python_executor (ProcessPoolExecutor); Python
// runs fewer items for apply_async/submit.
//
// Targets: weft >= 10x faster than Python per item, each shape.
//
// Run: bench_mp_pool [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick; WEFT_PYTHON picks the Python interpreter (default
// /usr/bin/python3 when it exists).
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "bench_support.hpp"
#include "weft/futures/process_pool_executor.hpp"
#include "weft/mp/pool.hpp"

namespace {

constexpr std::size_t kWorkers = 2;

int inc(int x) { return x + 1; }

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The sum of inc(i) for i in 0..items-1.
std::int64_t expected_sum(std::int64_t items) { return items * (items + 1) / 2; }

void check_sum(std::int64_t total, std::int64_t items) {
  if (total != expected_sum(items)) throw std::runtime_error("results lost, duplicated or wrong");
}

// Runs one task on every worker, so that all are started and connected.
void warm_up(weft::mp::Pool& pool) { pool.map(inc, std::vector<int>(kWorkers, 0), 1); }

double pool_apply_async(std::int64_t items) {
  weft::mp::Pool pool(kWorkers);
  warm_up(pool);
  std::vector<weft::mp::AsyncResult<int>> results;
  results.reserve(static_cast<std::size_t>(items));
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i)
    results.push_back(pool.apply_async(inc, std::tuple{static_cast<int>(i)}));
  std::int64_t total = 0;
  for (const auto& result : results) total += result.get();
  const double seconds = seconds_since(start);
  check_sum(total, items);
  pool.close();
  pool.join();
  return seconds;
}

double executor_submit(std::int64_t items) {
  weft::futures::ProcessPoolExecutor executor(kWorkers);
  for (auto& future : std::vector{executor.submit(inc, 0), executor.submit(inc, 0)}) future.result();
  std::vector<weft::futures::Future<int>> futures;
  futures.reserve(static_cast<std::size_t>(items));
  const auto start = Clock::now();
  for (std::int64_t i = 0; i < items; ++i) futures.push_back(executor.submit(inc, static_cast<int>(i)));
  std::int64_t total = 0;
  for (const auto& future : futures) total += future.result();
  const double seconds = seconds_since(start);
  check_sum(total, items);
  return seconds;
}

double pool_map(std::int64_t items, std::size_t chunksize) {
  weft::mp::Pool pool(kWorkers);
  warm_up(pool);
  std::vector<int> numbers(static_cast<std::size_t>(items));
  std::iota(numbers.begin(), numbers.end(), 0);
  pool.map(inc, numbers, chunksize);  // steady state: as the Python side, one untimed map first
  const auto start = Clock::now();
  const auto results = pool.map(inc, numbers, chunksize);
  const double seconds = seconds_since(start);
  check_sum(std::accumulate(results.begin(), results.end(), std::int64_t{0}), items);
  pool.close();
  pool.join();
  return seconds;
}

std::vector<weft_bench::Comparison> register_apply_async() {
  const std::string shape = "pool_apply_async/";
  const std::int64_t items = weft_bench::items(200'000, 2'000);
  const std::int64_t python_items = weft_bench::items(20'000, 500);
  weft_bench::add_batch(shape + "weft_pool", items, pool_apply_async);
  weft_bench::add_batch(shape + "weft_executor", items, executor_submit);
  weft_bench::add_python(shape + "python_pool", "mp_pool.py", python_items, {"apply_async"});
  weft_bench::add_python(shape + "python_executor", "mp_pool.py", python_items, {"submit"});
  return {
      {shape + "weft_pool", shape + "python_pool", 0.1, ">= 10x faster"},
      {shape + "weft_pool", shape + "python_executor", 0.1, ">= 10x faster"},
      {shape + "weft_executor", shape + "python_executor", 0.1, ">= 10x faster"},
      {shape + "weft_executor", shape + "python_pool", 0.1, ">= 10x faster"},
  };
}

std::vector<weft_bench::Comparison> register_map(std::size_t chunksize) {
  const std::string shape = "pool_map_chunk" + std::to_string(chunksize) + "/";
  const std::int64_t items = weft_bench::items(1'000'000, 20'000);
  weft_bench::add_batch(shape + "weft", items,
                        [chunksize](std::int64_t n) { return pool_map(n, chunksize); });
  weft_bench::add_python(shape + "python_pool", "mp_pool.py", items,
                         {"map", std::to_string(chunksize)});
  return {{shape + "weft", shape + "python_pool", 0.1, ">= 10x faster"}};
}

}  // namespace

int main(int argc, char** argv) {
  if (::access("/usr/bin/python3", X_OK) == 0) ::setenv("WEFT_PYTHON", "/usr/bin/python3", 0);
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows = register_apply_async();
  for (const std::size_t chunksize : {std::size_t{10'000}, std::size_t{100}})
    for (weft_bench::Comparison& row : register_map(chunksize)) rows.push_back(std::move(row));
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"2 workers, fork start method, on both sides",
       "python runs fewer apply_async/submit items; per-item times are compared"});
}
