// aio::Semaphore and aio::BoundedSemaphore: counting, FIFO fairness with
// Python's rule that nobody jumps a woken waiter, cancellation while
// waiting and after being woken (no lost wake-ups, gh-90155), the bound,
// and scoped().
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "sync_support.hpp"
#include "weft/aio/semaphore.hpp"

namespace aio = weft::aio;
using aio::testing::until;
using aio::testing::yield;

namespace {

class AioSemaphore : public aio::testing::SyncTest {};

// Acquires, records its id, and keeps the unit until `release` is set.
aio::Task<void> hold(aio::Semaphore& sem, std::vector<int>& order, int id, const bool& release) {
  co_await sem.acquire();
  order.push_back(id);
  while (!release) co_await yield();
  sem.release();
}

// Acquires the semaphore `times` times without suspending, or fails.
aio::Task<void> expect_free_units(aio::Semaphore& sem, int times) {
  bool other_ran = false;
  auto other = aio::create_task([](bool& ran) -> aio::Task<void> {
    ran = true;
    co_return;
  }(other_ran));
  for (int i = 0; i < times; ++i) co_await sem.acquire();
  EXPECT_FALSE(other_ran) << "acquire() suspended with units free";
  EXPECT_TRUE(sem.locked());
  for (int i = 0; i < times; ++i) sem.release();
  co_await other;
}

}  // namespace

TEST_F(AioSemaphore, ANegativeInitialValueIsAValueError) {
  EXPECT_THROW(aio::Semaphore(-1), weft::ValueError);
  EXPECT_THROW(aio::BoundedSemaphore(-1), weft::ValueError);
  aio::Semaphore zero(0);
  EXPECT_TRUE(zero.locked());
}

TEST_F(AioSemaphore, AcquiresUpToTheValueWithoutSuspending) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(3);
    EXPECT_FALSE(sem.locked());
    co_await expect_free_units(sem, 3);
    EXPECT_FALSE(sem.locked());
  }());
}

TEST_F(AioSemaphore, WaitersAcquireInTheOrderTheyCame) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = false;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int id = 0; id < 4; ++id) tasks.push_back(aio::create_task(hold(sem, order, id, release)));
    co_await yield();
    EXPECT_TRUE(order.empty());
    sem.release();
    sem.release();
    co_await until([&] { return order.size() == 2; });
    EXPECT_EQ(order, (std::vector<int>{0, 1}));
    release = true;
    sem.release();
    sem.release();
    for (auto& task : tasks) co_await task;
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
    co_await expect_free_units(sem, 4);
  }());
}

TEST_F(AioSemaphore, NobodyJumpsAheadOfAWokenWaiter) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = true;
    auto waiter = aio::create_task(hold(sem, order, 1, release));
    co_await yield();
    sem.release();  // its unit is on its way to `waiter`
    sem.release();  // a free unit, but `waiter` has not run yet
    EXPECT_TRUE(sem.locked()) << "Python's FIFO rule: others go first";
    co_await sem.acquire();
    order.push_back(2);
    sem.release();
    co_await waiter;
    EXPECT_EQ(order, (std::vector<int>{1, 2}));
    co_await expect_free_units(sem, 2);
  }());
}

TEST_F(AioSemaphore, CancelWhileWaitingTakesNothing) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = true;
    auto a = aio::create_task(hold(sem, order, 1, release));
    auto b = aio::create_task(hold(sem, order, 2, release));
    co_await yield();
    a.cancel();
    EXPECT_THROW(co_await a, aio::CancelledError);
    sem.release();
    co_await b;
    EXPECT_EQ(order, std::vector<int>{2});
    co_await expect_free_units(sem, 1);
  }());
}

TEST_F(AioSemaphore, AWaiterWokenThenCancelledGivesItsUnitToTheNext) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = false;
    auto a = aio::create_task(hold(sem, order, 1, release));
    auto b = aio::create_task(hold(sem, order, 2, release));
    auto c = aio::create_task(hold(sem, order, 3, release));
    co_await yield();
    sem.release();  // wakes a
    sem.release();  // wakes b
    a.cancel();     // before a ran
    EXPECT_THROW(co_await a, aio::CancelledError);
    co_await until([&] { return order.size() == 2; });
    EXPECT_EQ(order, (std::vector<int>{2, 3}));
    release = true;
    co_await b;
    co_await c;
    co_await expect_free_units(sem, 2);
  }());
}

TEST_F(AioSemaphore, CancellingEveryWokenWaiterLosesNoUnit) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = true;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int id = 0; id < 3; ++id) tasks.push_back(aio::create_task(hold(sem, order, id, release)));
    co_await yield();
    sem.release();
    sem.release();
    sem.release();
    for (auto& task : tasks) task.cancel();
    for (auto& task : tasks) EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_TRUE(order.empty());
    co_await expect_free_units(sem, 3);
  }());
}

TEST_F(AioSemaphore, ACancellationTakenBackStillEndsTheWait) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(0);
    std::vector<int> order;
    bool release = true;
    auto waiter = aio::create_task(hold(sem, order, 1, release));
    co_await yield();
    waiter.cancel();
    waiter.uncancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(order.empty());
    sem.release();
    co_await expect_free_units(sem, 1);
  }());
}

TEST_F(AioSemaphore, BoundedSemaphoreRefusesToExceedItsInitialValue) {
  run([]() -> aio::Task<void> {
    aio::BoundedSemaphore sem(2);
    EXPECT_THROW(sem.release(), weft::ValueError);
    co_await sem.acquire();
    sem.release();
    EXPECT_THROW(sem.release(), weft::ValueError);
    co_await expect_free_units(sem, 2);
  }());
}

TEST_F(AioSemaphore, APlainSemaphoreMayBeReleasedAboveItsInitialValue) {
  run([]() -> aio::Task<void> {
    aio::Semaphore sem(1);
    sem.release();
    co_await expect_free_units(sem, 2);
  }());
}

TEST_F(AioSemaphore, ScopedHoldsAUnitForTheScope) {
  run([]() -> aio::Task<void> {
    aio::BoundedSemaphore sem(1);
    {
      auto held = co_await sem.scoped();
      EXPECT_TRUE(sem.locked());
    }
    EXPECT_FALSE(sem.locked());
    auto worker = [](aio::BoundedSemaphore& sem, int& inside) -> aio::Task<void> {
      auto held = co_await sem.scoped();
      ++inside;
      co_await yield();
    };
    int inside = 0;
    co_await sem.acquire();
    auto cancelled = aio::create_task(worker(sem, inside));
    auto next = aio::create_task(worker(sem, inside));
    co_await yield();
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, aio::CancelledError);
    sem.release();
    co_await next;
    EXPECT_EQ(inside, 1);
    EXPECT_FALSE(sem.locked());
  }());
}

TEST_F(AioSemaphore, ConcurrencyNeverExceedsTheValueUnderRandomCancellations) {
  run([]() -> aio::Task<void> {
    aio::BoundedSemaphore sem(3);
    int inside = 0;
    int max_inside = 0;
    int completed = 0;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int i = 0; i < 300; ++i) {
      tasks.push_back(aio::create_task(
          [](aio::BoundedSemaphore& sem, int& inside, int& max_inside, int& completed, int i) -> aio::Task<void> {
            auto held = co_await sem.scoped();
            max_inside = std::max(max_inside, ++inside);
            struct Leave {
              int& inside;
              ~Leave() { --inside; }
            } leave{inside};
            for (int k = 0; k < i % 4; ++k) co_await yield();
            ++completed;
          }(sem, inside, max_inside, completed, i)));
    }
    for (int round = 0; round < 300; ++round) {
      tasks[static_cast<std::size_t>(round * 37 % 300)].cancel();
      if (round % 2 == 0) co_await yield();
    }
    int cancelled = 0;
    for (auto& task : tasks) {
      try {
        co_await task;
      } catch (const aio::CancelledError&) {
        ++cancelled;
      }
    }
    EXPECT_EQ(completed + cancelled, 300);
    EXPECT_LE(max_inside, 3);
    EXPECT_EQ(inside, 0);
    co_await expect_free_units(sem, 3);
  }());
}
