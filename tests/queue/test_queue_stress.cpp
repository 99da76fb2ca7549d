// Queue stress: many producers/consumers, random timeouts, shutdown races; each item once.
#include <gtest/gtest.h>
#include <weft/detail/ticket_counter.hpp>
#include <weft/queue.hpp>

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <future>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

struct Shape {
  int producers;
  int consumers;
  std::size_t maxsize;
};

void PrintTo(const Shape& shape, std::ostream* os) {
  *os << shape.producers << " producers, " << shape.consumers << " consumers, maxsize "
      << shape.maxsize;
}

std::string shape_name(const ::testing::TestParamInfo<Shape>& info) {
  return std::to_string(info.param.producers) + "x" + std::to_string(info.param.consumers) +
         "_max" + std::to_string(info.param.maxsize);
}

// Unique item ids: producer p's seq-th item is p * kPerProducer + seq. A test with the most
// producers (8) moves 40000 items, fewer under ThreadSanitizer.
const int kPerProducer = scaled(40000) / 8;

int producer_of(int id) { return id / kPerProducer; }

// What every consumer received, in the order it received it.
using Received = std::vector<std::vector<int>>;

// Every id in [0, total) appears exactly once across all consumers.
void expect_each_exactly_once(const Received& received, int total) {
  std::vector<int> count(total, 0);
  for (const auto& mine : received)
    for (int id : mine) {
      ASSERT_GE(id, 0);
      ASSERT_LT(id, total);
      ++count[id];
    }
  for (int id = 0; id < total; ++id) ASSERT_EQ(count[id], 1) << "item " << id;
}

// Each consumer sees any one producer's items in the order they were put.
void expect_fifo_per_producer(const Received& received, int producers) {
  for (const auto& mine : received) {
    std::vector<int> last(producers, -1);
    for (int id : mine) {
      ASSERT_GT(id, last[producer_of(id)]);
      last[producer_of(id)] = id;
    }
  }
}

// Producers put() every item, then the queue is shut down and consumers drain it to ShutDown.
template <class Q>
Received blocking_many_to_many(const Shape& shape) {
  Q q(shape.maxsize);
  Received received(shape.consumers);
  std::vector<std::thread> consumers;
  for (auto& mine : received) {
    consumers.emplace_back([&q, &mine] {
      try {
        for (;;) {
          mine.push_back(q.get());
          q.task_done();
        }
      } catch (const weft::ShutDown&) {
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < shape.producers; ++p)
    producers.emplace_back([&q, p] {
      for (int seq = 0; seq < kPerProducer; ++seq) q.put(p * kPerProducer + seq);
    });
  for (auto& t : producers) t.join();
  EXPECT_TRUE(q.join(kPatience * 6));
  q.shutdown();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  return received;
}

class ManyToMany : public ::testing::TestWithParam<Shape> {};

TEST_P(ManyToMany, QueueDeliversEachItemOnceInOrder) {
  const Shape shape = GetParam();
  const Received received = blocking_many_to_many<weft::Queue<int>>(shape);
  expect_each_exactly_once(received, shape.producers * kPerProducer);
  expect_fifo_per_producer(received, shape.producers);
}

TEST_P(ManyToMany, LifoQueueDeliversEachItemOnce) {
  const Shape shape = GetParam();
  expect_each_exactly_once(blocking_many_to_many<weft::LifoQueue<int>>(shape),
                           shape.producers * kPerProducer);
}

TEST_P(ManyToMany, PriorityQueueDeliversEachItemOnce) {
  const Shape shape = GetParam();
  expect_each_exactly_once(blocking_many_to_many<weft::PriorityQueue<int>>(shape),
                           shape.producers * kPerProducer);
}

// Producers and consumers use every timed and non-blocking form with random small timeouts,
// retrying until they succeed; items are move-only so a failed try_put must leave them intact
// (put() takes its item by value, so its attempts put a copy).
TEST_P(ManyToMany, RandomTimeoutsAndTryForms) {
  const Shape shape = GetParam();
  weft::Queue<std::unique_ptr<int>> q(shape.maxsize);
  Received received(shape.consumers);
  std::vector<std::thread> consumers;
  for (int c = 0; c < shape.consumers; ++c) {
    consumers.emplace_back([&q, &mine = received[c], c] {
      std::mt19937 rng(1000 + c);
      std::uniform_int_distribution<int> micros(0, 2000);
      try {
        for (int n = 0;; ++n) {
          std::unique_ptr<int> item;
          const auto timeout = std::chrono::microseconds(micros(rng));
          try {
            switch (n % 3) {
              case 0: item = q.get(timeout); break;
              case 1: item = q.try_get(timeout).value_or(nullptr); break;
              default: item = q.get_nowait(); break;
            }
          } catch (const weft::Empty&) {
          }
          if (!item) {
            std::this_thread::yield();
            continue;
          }
          mine.push_back(*item);
          q.task_done();
        }
      } catch (const weft::ShutDown&) {
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < shape.producers; ++p) {
    producers.emplace_back([&q, p] {
      std::mt19937 rng(p);
      std::uniform_int_distribution<int> micros(0, 2000);
      for (int seq = 0; seq < kPerProducer; ++seq) {
        auto item = std::make_unique<int>(p * kPerProducer + seq);
        for (int attempt = 0;; ++attempt) {
          const auto timeout = std::chrono::microseconds(micros(rng));
          bool done = false;
          try {
            switch ((seq + attempt) % 3) {
              case 0: done = q.try_put(std::move(item), timeout); break;
              case 1: done = q.try_put(std::move(item)); break;
              default: q.put(std::make_unique<int>(*item), timeout); done = true; break;
            }
          } catch (const weft::Full&) {
          }
          if (done) break;
          ASSERT_NE(item, nullptr) << "a failed put consumed the item";
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  q.shutdown();
  for (auto& t : consumers) t.join();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  expect_each_exactly_once(received, shape.producers * kPerProducer);
  expect_fifo_per_producer(received, shape.producers);
}

INSTANTIATE_TEST_SUITE_P(Shapes, ManyToMany,
                         ::testing::Values(Shape{4, 4, 8}, Shape{4, 4, 0}, Shape{8, 8, 0},
                                           Shape{8, 8, 1}, Shape{1, 8, 2}, Shape{8, 1, 4}),
                         shape_name);

struct RaceCase {
  bool immediate;
  std::size_t maxsize;
};

void PrintTo(const RaceCase& race, std::ostream* os) {
  *os << (race.immediate ? "immediate" : "graceful") << ", maxsize " << race.maxsize;
}

class ShutdownRace : public ::testing::TestWithParam<RaceCase> {};

// Producers put fresh ids until ShutDown; consumers get until ShutDown; the queue is shut down
// while both are busy. An id whose put returned was accepted: a graceful shutdown delivers every
// accepted id, an immediate one a subset; nothing is delivered twice or invented, and every
// unfinished task is retired so join() returns.
TEST_P(ShutdownRace, NothingLostOrDuplicated) {
  const RaceCase param = GetParam();
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  const int shutdown_after = scaled(20000);
  weft::Queue<int> q(param.maxsize);
  std::atomic<int> received_total{0};
  std::promise<void> busy;
  Received received(kConsumers);
  std::vector<std::vector<int>> accepted(kProducers);
  std::vector<std::thread> threads;
  for (auto& mine : received) {
    threads.emplace_back([&, &mine = mine] {
      try {
        for (;;) {
          mine.push_back(q.get());
          q.task_done();
          if (received_total.fetch_add(1) + 1 == shutdown_after) busy.set_value();
        }
      } catch (const weft::ShutDown&) {
      }
    });
  }
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&q, &mine = accepted[p], p] {
      try {
        for (int seq = 0;; ++seq) {
          const int id = p * 100'000'000 + seq;
          q.put(id);
          mine.push_back(id);
        }
      } catch (const weft::ShutDown&) {
      }
    });
  }
  EXPECT_EQ(busy.get_future().wait_for(kPatience * 6), std::future_status::ready);
  q.shutdown(param.immediate);
  for (auto& t : threads) t.join();

  std::vector<int> got;
  for (const auto& mine : received) got.insert(got.end(), mine.begin(), mine.end());
  std::vector<int> sent;
  for (const auto& mine : accepted) sent.insert(sent.end(), mine.begin(), mine.end());
  std::sort(got.begin(), got.end());
  std::sort(sent.begin(), sent.end());
  EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end()) << "an item arrived twice";
  EXPECT_TRUE(std::includes(sent.begin(), sent.end(), got.begin(), got.end()))
      << "an item arrived that no put accepted";
  if (!param.immediate) {
    EXPECT_EQ(got.size(), sent.size()) << "a graceful shutdown lost items";
  }
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_TRUE(q.join(kPatience));
}

INSTANTIATE_TEST_SUITE_P(Cases, ShutdownRace,
                         ::testing::Values(RaceCase{false, 0}, RaceCase{false, 4},
                                           RaceCase{true, 0}, RaceCase{true, 4}),
                         [](const ::testing::TestParamInfo<RaceCase>& info) {
                           return std::string(info.param.immediate ? "immediate" : "graceful") +
                                  "_max" + std::to_string(info.param.maxsize);
                         });

// How long each give-then-close race below is repeated at most.
constexpr auto kRaceFor = 2s;

// The counter that interrupt_taker() serves next, and how many it served.
std::atomic<weft::detail::TicketCounter*> g_armed{nullptr};
std::atomic<long> g_served{0};

// A signal handler: gives the armed counter a ticket and closes it, at whatever point the
// interrupted taker was (both are lock-free, so safe in a handler).
void interrupt_taker(int) {
  if (weft::detail::TicketCounter* counter = g_armed.exchange(nullptr)) {
    counter->give(1);
    counter->close();
    g_served.fetch_add(1, std::memory_order_release);
  }
}

// A taker spinning on an empty counter that gets a ticket and then sees the counter closed must
// take that ticket: tickets counted before close() stay takeable. The ticket and the close come
// from a signal handler that interrupts the taker at arbitrary points of its spin loop, which
// lands between its look at the count and its look at the closed flag within a few dozen rounds.
TEST(TicketCounterRace, ATicketGivenJustBeforeCloseIsTaken) {
  using weft::detail::TicketCounter;
  struct sigaction action {};
  struct sigaction previous {};
  action.sa_handler = interrupt_taker;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(sigaction(SIGUSR1, &action, &previous), 0);
  g_served = 0;
  std::atomic<bool> stop{false};
  const pthread_t taker = pthread_self();
  std::thread interrupter([&] {
    while (!stop.load(std::memory_order_relaxed)) pthread_kill(taker, SIGUSR1);
  });
  long rounds = 0;
  long lost = 0;
  for (const auto until = Clock::now() + kRaceFor; lost == 0 && Clock::now() < until; ++rounds) {
    TicketCounter counter;
    g_armed.store(&counter, std::memory_order_release);
    // Spins long enough for a signal to arrive while it spins; sleeps (and is woken) if not.
    if (counter.take(std::nullopt, 1 << 22) != TicketCounter::Taken::yes) ++lost;
  }
  stop = true;
  interrupter.join();
  // Ignoring SIGUSR1 first discards one still pending, which the previous action might not.
  action.sa_handler = SIG_IGN;
  sigaction(SIGUSR1, &action, nullptr);
  sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(g_served.load(), rounds);
  EXPECT_EQ(lost, 0) << "take() reported closed with a ticket left, after " << rounds << " rounds";
}

// The same race in Queue<T>: a getter waiting on an empty queue gets the item put just before a
// graceful shutdown() instead of ShutDown.
TEST(QueueShutdownRace, TheItemPutJustBeforeAGracefulShutdownIsDelivered) {
  std::atomic<weft::Queue<int>*> current{nullptr};
  std::atomic<long> answered{0};
  std::atomic<int> got{0};
  std::atomic<bool> stop{false};
  std::thread getter([&] {
    for (long round = 1;; ++round) {
      weft::Queue<int>* q;
      while ((q = current.exchange(nullptr, std::memory_order_acquire)) == nullptr) {
        if (stop.load(std::memory_order_relaxed)) return;
        std::this_thread::yield();
      }
      try {
        got.store(q->get(), std::memory_order_relaxed);
      } catch (const weft::ShutDown&) {
        got.store(-1, std::memory_order_relaxed);
      }
      answered.store(round, std::memory_order_release);
    }
  });
  long rounds = 0;
  long lost = 0;
  for (const auto until = Clock::now() + kRaceFor; lost == 0 && Clock::now() < until;) {
    weft::Queue<int> q;
    current.store(&q, std::memory_order_release);
    q.put(42);
    q.shutdown();
    ++rounds;
    while (answered.load(std::memory_order_acquire) != rounds) std::this_thread::yield();
    if (got.load(std::memory_order_relaxed) != 42) ++lost;
  }
  stop = true;
  getter.join();
  EXPECT_EQ(lost, 0) << "get() threw ShutDown with an item queued, after " << rounds << " rounds";
}

}  // namespace
