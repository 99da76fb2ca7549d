// aio::Lock: the uncontended path, FIFO fairness and Python's no-barging
// rule, cancellation while waiting and after being woken, and scoped().
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "sync_support.hpp"
#include "weft/aio/lock.hpp"

namespace aio = weft::aio;
using aio::testing::yield;

namespace {

class AioLock : public aio::testing::SyncTest {};

// Takes the lock, records its name, yields once with it held, releases.
aio::Task<void> take_turn(aio::Lock& lock, std::vector<std::string>& order, std::string name) {
  co_await lock.acquire();
  order.push_back(std::move(name));
  co_await yield();
  lock.release();
}

}  // namespace

TEST_F(AioLock, UncontendedAcquireAndReleaseNeverSuspend) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    bool other_ran = false;
    auto other = aio::create_task([](bool& ran) -> aio::Task<void> {
      ran = true;
      co_return;
    }(other_ran));
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();
    lock.release();
    EXPECT_FALSE(other_ran) << "an uncontended acquire() suspended the task";
    co_await other;
  }());
}

TEST_F(AioLock, ReleasingAnUnlockedLockIsARuntimeError) {
  aio::Lock lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  run([&lock]() -> aio::Task<void> {
    co_await lock.acquire();
    lock.release();
    EXPECT_THROW(lock.release(), weft::RuntimeError);
  }());
}

TEST_F(AioLock, WaitersGetTheLockInTheOrderTheyCame) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto a = aio::create_task(take_turn(lock, order, "a"));
    auto b = aio::create_task(take_turn(lock, order, "b"));
    auto c = aio::create_task(take_turn(lock, order, "c"));
    co_await yield();
    EXPECT_TRUE(order.empty());
    lock.release();
    co_await a;
    co_await b;
    co_await c;
    EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, NobodyJumpsAheadOfAWokenWaiter) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto waiter = aio::create_task(take_turn(lock, order, "waiter"));
    co_await yield();
    lock.release();
    // Python's rule: unlocked, yet the woken waiter goes first.
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();
    order.push_back("releaser");
    lock.release();
    co_await waiter;
    EXPECT_EQ(order, (std::vector<std::string>{"waiter", "releaser"}));
  }());
}

TEST_F(AioLock, CancelWhileWaitingLeavesTheLineAndTheLockUntouched) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto a = aio::create_task(take_turn(lock, order, "a"));
    auto b = aio::create_task(take_turn(lock, order, "b"));
    co_await yield();
    a.cancel("stop");
    try {
      co_await a;
      ADD_FAILURE() << "the cancelled waiter acquired the lock";
    } catch (const aio::CancelledError& error) {
      EXPECT_STREQ(error.what(), "stop");
    }
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(lock.locked());
    lock.release();
    co_await b;
    EXPECT_EQ(order, (std::vector<std::string>{"b"}));
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, AWaiterWokenThenCancelledPassesTheLockOn) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto a = aio::create_task(take_turn(lock, order, "a"));
    auto b = aio::create_task(take_turn(lock, order, "b"));
    co_await yield();
    lock.release();  // wakes a
    a.cancel();      // before a ran: the cancellation wins
    EXPECT_THROW(co_await a, aio::CancelledError);
    co_await b;
    EXPECT_EQ(order, (std::vector<std::string>{"b"}));
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();  // nothing is left reserved
    lock.release();
  }());
}

TEST_F(AioLock, ACancelledLastWaiterLeavesTheLockFree) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto a = aio::create_task(take_turn(lock, order, "a"));
    co_await yield();
    lock.release();
    a.cancel();
    EXPECT_THROW(co_await a, aio::CancelledError);
    EXPECT_FALSE(lock.locked());
    bool other_ran = false;
    auto other = aio::create_task([](bool& ran) -> aio::Task<void> {
      ran = true;
      co_return;
    }(other_ran));
    co_await lock.acquire();
    EXPECT_FALSE(other_ran) << "acquire() waited for a wake-up nobody was owed";
    lock.release();
    co_await other;
  }());
}

TEST_F(AioLock, ACancellationTakenBackStillEndsTheWait) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    std::vector<std::string> order;
    co_await lock.acquire();
    auto a = aio::create_task(take_turn(lock, order, "a"));
    co_await yield();
    a.cancel();
    a.uncancel();  // as Python: the wait was ended by the cancellation all the same
    EXPECT_THROW(co_await a, aio::CancelledError);
    EXPECT_TRUE(order.empty());
    EXPECT_TRUE(lock.locked());
    lock.release();
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, ScopedReleasesAtTheEndOfTheScope) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    {
      auto held = co_await lock.scoped();
      EXPECT_TRUE(held.holds());
      EXPECT_TRUE(lock.locked());
    }
    EXPECT_FALSE(lock.locked());
    {
      auto held = co_await lock.scoped();
      held.release();
      EXPECT_FALSE(held.holds());
      EXPECT_FALSE(lock.locked());
    }
    EXPECT_FALSE(lock.locked());
    auto thrower = [](aio::Lock& lock) -> aio::Task<void> {
      auto held = co_await lock.scoped();
      throw std::logic_error("inside");
    };
    EXPECT_THROW(co_await thrower(lock), std::logic_error);
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, ScopedWaitsItsTurnAndHoldsNothingWhenCancelled) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    int inside = 0;
    auto worker = [](aio::Lock& lock, int& inside) -> aio::Task<void> {
      auto held = co_await lock.scoped();
      ++inside;
      co_await yield();
    };
    co_await lock.acquire();
    auto cancelled = aio::create_task(worker(lock, inside));
    auto next = aio::create_task(worker(lock, inside));
    co_await yield();
    cancelled.cancel();
    EXPECT_THROW(co_await cancelled, aio::CancelledError);
    EXPECT_EQ(inside, 0);
    lock.release();
    co_await next;
    EXPECT_EQ(inside, 1);
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, ManyTasksNeverOverlapAndAllGetIn) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    int inside = 0;
    int max_inside = 0;
    int done = 0;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int i = 0; i < 200; ++i) {
      tasks.push_back(
          aio::create_task([](aio::Lock& lock, int& inside, int& max_inside, int& done, int i) -> aio::Task<void> {
            for (int round = 0; round < 5; ++round) {
              auto held = co_await lock.scoped();
              max_inside = std::max(max_inside, ++inside);
              if ((i + round) % 3 == 0) co_await yield();
              --inside;
            }
            ++done;
          }(lock, inside, max_inside, done, i)));
    }
    for (auto& task : tasks) co_await task;
    EXPECT_EQ(max_inside, 1);
    EXPECT_EQ(done, 200);
    EXPECT_FALSE(lock.locked());
  }());
}

TEST_F(AioLock, RandomCancellationsNeverStrandTheLock) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    int completed = 0;
    std::vector<aio::TaskHandle<void>> tasks;
    for (int i = 0; i < 100; ++i) {
      tasks.push_back(aio::create_task([](aio::Lock& lock, int& completed) -> aio::Task<void> {
        auto held = co_await lock.scoped();
        co_await yield();
        ++completed;
      }(lock, completed)));
    }
    int cancelled = 0;
    for (int round = 0; round < 400 && completed + cancelled < 100; ++round) {
      // Cancel every seventh task at whatever point it has reached.
      if (round % 3 == 0) {
        const auto index = static_cast<std::size_t>(round * 7 % 100);
        if (tasks[index].cancel()) ++cancelled;
      }
      co_await yield();
    }
    for (auto& task : tasks) {
      try {
        co_await task;
      } catch (const aio::CancelledError&) {
      }
    }
    int ended_cancelled = 0;
    for (auto& task : tasks) ended_cancelled += task.cancelled() ? 1 : 0;
    EXPECT_EQ(completed + ended_cancelled, 100);
    EXPECT_FALSE(lock.locked());
    co_await lock.acquire();
    lock.release();
  }());
}
