// bench_mp_queue — weft::mp::Queue<int> between processes against Python's
// multiprocessing queues, side by side.
//
// Measures: wall time per item handed from producer processes to consumer
// processes, with
//   1 producer / 1 consumer   (mp_queue_1p1c/...) and
//   2 producers / 2 consumers (mp_queue_2p2c/...).
// Every producer puts its share of the integers 0..N-1, every consumer gets
// its share. The processes are forked before the clock starts and wait for
// a go signal; the clock runs from the signal until the last of them is
// reaped, and the sum of what was consumed is checked.
//
// Peers, in the same run:
//   python_queue   multiprocessing.Queue() (unbounded, pipe + feeder thread)
//   python_simple  multiprocessing.SimpleQueue() (a locked pipe)
// both with fork-started processes (bench/python/mp_queue.py), fewer items.
// weft's queue is unbounded in items too, with its default 4 MiB ring.
//
// Target: weft >= 20x faster than Python per item.
//
// Run: bench_mp_queue [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick; WEFT_PYTHON picks the Python interpreter
// (default /usr/bin/python3 when it exists).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_fork.hpp"
#include "bench_support.hpp"
#include "weft/detail/futex.hpp"
#include "weft/mp/detail/shared_block.hpp"
#include "weft/mp/queues.hpp"

namespace {

using weft::detail::FutexScope;

// What the forked processes share besides the queue: the go signal and the
// consumers' sums.
struct Board {
  std::atomic<std::uint32_t> go{0};
  std::atomic<std::int64_t> sum{0};
};

void await_go(Board& board) {
  while (board.go.load(std::memory_order_acquire) == 0)
    weft::detail::futex_wait(board.go, 0, std::nullopt, FutexScope::process_shared);
}

// Moves `items` integers from `producers` processes to `consumers`
// processes through a fresh mp::Queue<int>; returns the seconds it took.
double pipeline(std::int64_t items, int producers, int consumers) {
  const auto block = weft::mp::detail::SharedBlock::create(sizeof(Board), "bench-board");
  Board& board = *new (block->data()) Board;
  weft::mp::Queue<int> queue;
  const std::int64_t per_producer = items / producers;
  const std::int64_t per_consumer = items / consumers;

  std::vector<pid_t> children;
  for (int c = 0; c < consumers; ++c)
    children.push_back(weft_bench::fork_child([&] {
      await_go(board);
      std::int64_t mine = 0;
      for (std::int64_t i = 0; i < per_consumer; ++i) mine += queue.get();
      board.sum.fetch_add(mine);
    }));
  for (int p = 0; p < producers; ++p)
    children.push_back(weft_bench::fork_child([&, first = p * per_producer] {
      await_go(board);
      for (std::int64_t i = first; i < first + per_producer; ++i) queue.put(static_cast<int>(i));
    }));

  const auto start = std::chrono::steady_clock::now();
  board.go.store(1, std::memory_order_release);
  weft::detail::futex_wake_all(board.go, FutexScope::process_shared);
  bool failed = false;
  for (const pid_t child : children) failed |= !weft_bench::child_succeeded(child);
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  if (failed) throw std::runtime_error("a worker process failed");
  if (board.sum.load() != items * (items - 1) / 2)
    throw std::runtime_error("items lost or duplicated");
  return elapsed.count();
}

std::vector<weft_bench::Comparison> register_shape(int producers, int consumers) {
  const std::string shape =
      "mp_queue_" + std::to_string(producers) + "p" + std::to_string(consumers) + "c/";
  const std::int64_t threads = producers * consumers;
  const std::int64_t items = weft_bench::items(2'000'000, 20'000) / threads * threads;
  const std::int64_t python_items = weft_bench::items(50'000, 2'000) / threads * threads;
  const std::vector<std::string> args{std::to_string(producers), std::to_string(consumers)};

  weft_bench::add_batch(shape + "weft", items,
                        [=](std::int64_t n) { return pipeline(n, producers, consumers); });
  std::vector<std::string> queue_args = args, simple_args = args;
  queue_args.push_back("queue");
  simple_args.push_back("simple");
  weft_bench::add_python(shape + "python_queue", "mp_queue.py", python_items, queue_args);
  weft_bench::add_python(shape + "python_simple", "mp_queue.py", python_items, simple_args);

  return {
      {shape + "weft", shape + "python_queue", 0.05, ">= 20x faster"},
      {shape + "weft", shape + "python_simple", 0.05, ">= 20x faster"},
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (::access("/usr/bin/python3", X_OK) == 0) ::setenv("WEFT_PYTHON", "/usr/bin/python3", 0);
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows = register_shape(1, 1);
  for (weft_bench::Comparison& row : register_shape(2, 2)) rows.push_back(std::move(row));
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"all queues are unbounded in items; weft's ring holds 4 MiB",
       "python runs fewer items; per-item times are compared"});
}
