// Threading stress: Lock/RLock counters, Semaphore occupancy, Condition buffer, Barrier, churn.
#include <gtest/gtest.h>
#include <weft/threading.hpp>

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

// Starts n weft threads running body(i), then joins them all.
template <class Body>
void run_threads(int n, Body body) {
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < n; ++i) {
    threads.push_back(std::make_unique<weft::Thread>(body, i));
    threads.back()->start();
  }
  for (auto& t : threads) EXPECT_TRUE(t->join(kPatience * 6));
}

TEST(ThreadingStress, LockKeepsACounterExact) {
  constexpr int kThreads = 8;
  const int rounds = scaled(20000);
  weft::Lock lock;
  long counter = 0;
  run_threads(kThreads, [&](int id) {
    for (int r = 0; r < rounds; ++r) {
      switch ((r + id) % 3) {
        case 0: lock.acquire(); break;
        case 1: while (!lock.acquire(false)) {} break;
        default: ASSERT_TRUE(lock.acquire(kPatience)); break;
      }
      ++counter;
      lock.release();
    }
  });
  EXPECT_EQ(counter, static_cast<long>(kThreads) * rounds);
  EXPECT_FALSE(lock.locked());
}

TEST(ThreadingStress, RLockKeepsACounterExactWhenReentered) {
  constexpr int kThreads = 4;
  const int rounds = scaled(10000);
  weft::RLock lock;
  long counter = 0;
  run_threads(kThreads, [&](int) {
    for (int r = 0; r < rounds; ++r) {
      std::lock_guard outer(lock);
      std::lock_guard inner(lock);
      ++counter;
    }
  });
  EXPECT_EQ(counter, static_cast<long>(kThreads) * rounds);
  EXPECT_FALSE(lock.locked());
}

// No more than `limit` threads are ever inside at once, and the limit is reached.
template <class Sem>
void check_occupancy(Sem& sem, int limit) {
  constexpr int kThreads = 8;
  const int rounds = scaled(5000);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<long> entries{0};
  run_threads(kThreads, [&](int id) {
    for (int r = 0; r < rounds; ++r) {
      const bool got = (r + id) % 2 == 0 ? sem.acquire() : sem.acquire(kPatience);
      ASSERT_TRUE(got);
      const int now = ++inside;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {}
      ++entries;
      --inside;
      sem.release();
    }
  });
  EXPECT_LE(most, limit);
  EXPECT_GE(most, 1);
  EXPECT_EQ(entries, static_cast<long>(kThreads) * rounds);
  EXPECT_EQ(sem.value(), static_cast<std::uint32_t>(limit));
}

TEST(ThreadingStress, SemaphoreNeverAdmitsMoreThanItsValue) {
  weft::Semaphore sem(3);
  check_occupancy(sem, 3);
}

TEST(ThreadingStress, BoundedSemaphoreNeverAdmitsMoreThanItsValue) {
  weft::BoundedSemaphore sem(2);
  check_occupancy(sem, 2);
}

TEST(ThreadingStress, ConditionBoundedBufferDeliversEachItemOnce) {
  constexpr int kProducers = 4;
  constexpr int kConsumers = 4;
  constexpr std::size_t kCapacity = 8;
  const int per_producer = scaled(10000);
  weft::Condition cond;
  std::deque<int> buffer;
  int producers_done = 0;
  std::vector<std::vector<int>> received(kConsumers);
  run_threads(kProducers + kConsumers, [&](int id) {
    if (id < kProducers) {
      for (int seq = 0; seq < per_producer; ++seq) {
        std::lock_guard held(cond);
        ASSERT_TRUE(cond.wait_for([&] { return buffer.size() < kCapacity; }, kPatience));
        buffer.push_back(id * per_producer + seq);
        cond.notify_all();
      }
      std::lock_guard held(cond);
      ++producers_done;
      cond.notify_all();
      return;
    }
    auto& mine = received[id - kProducers];
    for (;;) {
      std::lock_guard held(cond);
      ASSERT_TRUE(cond.wait_for(
          [&] { return !buffer.empty() || producers_done == kProducers; }, kPatience));
      if (buffer.empty()) return;
      mine.push_back(buffer.front());
      buffer.pop_front();
      cond.notify();
    }
  });
  std::vector<int> all;
  for (const auto& mine : received) all.insert(all.end(), mine.begin(), mine.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kProducers) * per_producer);
  for (std::size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int>(i));
}

TEST(ThreadingStress, BarrierKeepsPartiesInLockstep) {
  constexpr int kParties = 4;
  const int rounds = scaled(2000);
  std::atomic<int> actions{0};
  weft::Barrier barrier(kParties, [&] { ++actions; });
  // Two phases of slots, so a thread writing round r+1 never races a reader of round r.
  std::vector<int> slots[2] = {std::vector<int>(kParties, -1), std::vector<int>(kParties, -1)};
  std::vector<std::atomic<unsigned>> indices(rounds);
  std::atomic<int> out_of_step{0};
  run_threads(kParties, [&](int id) {
    for (int round = 0; round < rounds; ++round) {
      auto& phase = slots[round % 2];
      phase[id] = round;
      const std::size_t index = barrier.wait(kPatience);
      indices[round].fetch_or(1u << index);
      for (int other : phase)
        if (other != round) ++out_of_step;
    }
  });
  EXPECT_EQ(actions, rounds);
  EXPECT_EQ(out_of_step, 0);
  for (int round = 0; round < rounds; ++round)
    ASSERT_EQ(indices[round].load(), (1u << kParties) - 1) << "round " << round;
}

TEST(ThreadingStress, ThreadChurnLeavesTheRegistryClean) {
  const std::size_t before = weft::active_count();
  const int batches = scaled(100);
  std::mutex mutex;
  std::set<std::string> names;
  for (int b = 0; b < batches; ++b) {
    run_threads(4, [&](int) {
      const std::string name = weft::current_thread().name();
      std::lock_guard held(mutex);
      names.insert(name);
    });
  }
  EXPECT_EQ(names.size(), static_cast<std::size_t>(batches) * 4);
  EXPECT_EQ(weft::active_count(), before);
}

}  // namespace
