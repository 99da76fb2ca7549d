// Seed 003, "生产者消费者模型": Producer A puts 20 baozi (0..19) into a
// queue.Queue, sleeping 0-2 s before each; Consumer B looks 20 times,
// sleeping 0-3 s before each look, and eats one if the queue is not empty,
// else prints "-----no baozi anymore----".
//
// Shows weft::Queue<int> handing items from one thread to another in FIFO
// order. Checks: all 20 were produced; what the consumer ate is exactly the
// first baozi in production order; the ones it did not get to are still in
// the queue, in order, right after them.
//
// Time: one seed second is 20 ms. The random sleeps come from seeded
// generators, one per thread.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include <weft/queue.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

weft::Queue<int> q;
std::atomic<int> produced{0};
std::vector<int> eaten;  // written by the consumer, read after it is joined

void sleep_randrange(std::mt19937& rng, int stop) {
  std::uniform_int_distribution<int> seconds(0, stop - 1);
  std::this_thread::sleep_for(seconds(rng) * kSeedSecond);
}

void Producer(const char* name) {
  std::mt19937 rng(1);
  for (int count = 0; count < 20; ++count) {
    sleep_randrange(rng, 3);
    q.put(count);
    std::printf("Producer %s has produced %d baozi..\n", name, count);
    produced.fetch_add(1);
  }
}

void Consumer(const char* name) {
  std::mt19937 rng(2);
  for (int count = 0; count < 20; ++count) {
    sleep_randrange(rng, 4);
    if (!q.empty()) {
      const int data = q.get();
      std::printf("%d\n", data);
      std::printf("\033[32;1mConsumer %s has eat %d baozi...\033[0m\n", name, data);
      eaten.push_back(data);
    } else {
      std::printf("-----no baozi anymore----\n");
    }
  }
}

int main() {
  {
    weft::Thread p1(Producer, "A");
    weft::Thread c1(Consumer, "B");
    p1.start();
    c1.start();
  }  // both are joined here

  std::vector<int> left;
  while (auto item = q.try_get()) left.push_back(*item);
  std::printf("produced %d, eaten %zu, left in the queue %zu\n", produced.load(), eaten.size(),
              left.size());

  bool eaten_in_order = !eaten.empty();
  for (std::size_t i = 0; i < eaten.size(); ++i)
    eaten_in_order = eaten_in_order && eaten[i] == int(i);
  bool left_in_order = true;
  for (std::size_t i = 0; i < left.size(); ++i)
    left_in_order = left_in_order && left[i] == int(eaten.size() + i);

  seed::check(produced.load() == 20, "the producer made all 20 baozi");
  seed::check(eaten_in_order, "the consumer ate baozi 0, 1, 2, ... in the order they were made");
  seed::check(left_in_order && eaten.size() + left.size() == 20,
              "the uneaten baozi wait in the queue, in order, none lost");
  return seed::verdict();
}
