// bench_queue — weft::Queue<int> against its peers, side by side.
//
// Measures: wall time per item through a queue bounded at 1024, with
//   1 producer / 1 consumer  (queue_1p1c/...) and
//   2 producers / 2 consumers (queue_2p2c/...).
// Every producer puts its share of the integers 0..N-1, every consumer gets
// its share; the clock runs from releasing all threads to joining the last,
// and the sum of what was consumed is checked. Threads are std::threads for
// every C++ variant, so only the queue differs.
//
// Peers, in the same run:
//   mutex_cv_deque      a plain std::mutex + two std::condition_variable +
//                       std::deque queue bounded at 1024 (the textbook one);
//   moodycamel          moodycamel::BlockingConcurrentQueue<int>, enqueue +
//                       wait_dequeue. It is UNBOUNDED: producers never wait;
//   python              Python's queue.Queue(1024) with threading.Threads
//                       (bench/python/queue_bench.py), fewer items.
//
// Targets: weft >= 20x faster than Python per item; weft's time per item
// within 1.5x of moodycamel's.
//
// Run: bench_queue [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick, WEFT_PYTHON picks the Python interpreter.
#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <latch>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "weft/queue.hpp"

namespace {

constexpr std::size_t kMaxSize = 1024;

// The textbook bounded blocking queue: one mutex, one condition variable
// for "not empty" and one for "not full".
class MutexQueue {
 public:
  explicit MutexQueue(std::size_t maxsize) : maxsize_(maxsize) {}

  void put(int item) {
    {
      std::unique_lock lock(mutex_);
      not_full_.wait(lock, [this] { return items_.size() < maxsize_; });
      items_.push_back(item);
    }
    not_empty_.notify_one();
  }

  int get() {
    int item;
    {
      std::unique_lock lock(mutex_);
      not_empty_.wait(lock, [this] { return !items_.empty(); });
      item = items_.front();
      items_.pop_front();
    }
    not_full_.notify_one();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<int> items_;
  const std::size_t maxsize_;
};

// One spelling of put/get over the three C++ queues.
void put(weft::Queue<int>& queue, int item) { queue.put(item); }
int get(weft::Queue<int>& queue) { return queue.get(); }

void put(MutexQueue& queue, int item) { queue.put(item); }
int get(MutexQueue& queue) { return queue.get(); }

using Moodycamel = moodycamel::BlockingConcurrentQueue<int>;
void put(Moodycamel& queue, int item) {
  if (!queue.enqueue(item)) throw std::bad_alloc();
}
int get(Moodycamel& queue) {
  int item;
  queue.wait_dequeue(item);
  return item;
}

// Moves `items` integers from `producers` threads to `consumers` threads
// through `queue`, which starts empty; returns the seconds it took.
// `items` is a multiple of both thread counts.
template <class Queue>
double pipeline(Queue& queue, std::int64_t items, int producers, int consumers) {
  const std::int64_t per_producer = items / producers;
  const std::int64_t per_consumer = items / consumers;
  std::latch go(1);
  std::atomic<std::int64_t> sum{0};
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, first = p * per_producer] {
      go.wait();
      for (std::int64_t i = first; i < first + per_producer; ++i) put(queue, static_cast<int>(i));
    });
  for (int c = 0; c < consumers; ++c)
    threads.emplace_back([&] {
      go.wait();
      std::int64_t mine = 0;
      for (std::int64_t i = 0; i < per_consumer; ++i) mine += get(queue);
      sum.fetch_add(mine, std::memory_order_relaxed);
    });

  const auto start = std::chrono::steady_clock::now();
  go.count_down();
  for (std::thread& thread : threads) thread.join();
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  if (sum.load() != items * (items - 1) / 2) throw std::runtime_error("items lost or duplicated");
  return elapsed.count();
}

// Registers the four variants of one producer/consumer shape and returns
// the rows of the ratio table that compare them.
std::vector<weft_bench::Comparison> register_shape(int producers, int consumers) {
  const std::string shape =
      "queue_" + std::to_string(producers) + "p" + std::to_string(consumers) + "c/";
  const std::int64_t threads = producers * consumers;
  const std::int64_t items = weft_bench::items(2'000'000, 20'000) / threads * threads;
  const std::int64_t python_items = weft_bench::items(200'000, 4'000) / threads * threads;

  weft_bench::add_batch(shape + "weft", items, [=](std::int64_t n) {
    weft::Queue<int> queue(kMaxSize);
    return pipeline(queue, n, producers, consumers);
  });
  weft_bench::add_batch(shape + "mutex_cv_deque", items, [=](std::int64_t n) {
    MutexQueue queue(kMaxSize);
    return pipeline(queue, n, producers, consumers);
  });
  weft_bench::add_batch(shape + "moodycamel_unbounded", items, [=](std::int64_t n) {
    Moodycamel queue;
    return pipeline(queue, n, producers, consumers);
  });
  weft_bench::add_python(shape + "python", "queue_bench.py", python_items,
                         {std::to_string(producers), std::to_string(consumers),
                          std::to_string(kMaxSize)});

  return {
      {shape + "weft", shape + "mutex_cv_deque", 0, ""},
      {shape + "weft", shape + "moodycamel_unbounded", 1.5, "<= 1.5x moodycamel"},
      {shape + "weft", shape + "python", 0.05, ">= 20x faster"},
  };
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows = register_shape(1, 1);
  for (weft_bench::Comparison& row : register_shape(2, 2)) rows.push_back(std::move(row));
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"weft, mutex_cv_deque and python queues are bounded at 1024; moodycamel's "
       "BlockingConcurrentQueue is unbounded (its producers never block)",
       "python runs fewer items; per-item times are compared"});
}
