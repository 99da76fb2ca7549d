// aio::Condition: the lock rules, notify order and counts, wait_for, and
// Python's cancellation rules — the lock is held again when CancelledError
// reaches the caller, and a notification is never lost to a cancellation.
#include <gtest/gtest.h>

#include <vector>

#include "sync_support.hpp"
#include "weft/aio/condition.hpp"

namespace aio = weft::aio;
using aio::testing::until;
using aio::testing::yield;

namespace {

class AioCondition : public aio::testing::SyncTest {};

// Waits once, holding the lock around it; records its id when notified.
aio::Task<void> wait_once(aio::Condition& cond, std::vector<int>& woken, int id) {
  auto held = co_await cond.scoped();
  co_await cond.wait();
  EXPECT_TRUE(cond.locked());
  woken.push_back(id);
}

// Waits and reports whether the lock was held when CancelledError arrived.
aio::Task<void> wait_until_cancelled(aio::Condition& cond, bool& held_at_cancel) {
  co_await cond.acquire();
  try {
    co_await cond.wait();
  } catch (const aio::CancelledError&) {
    held_at_cancel = cond.locked();
    cond.release();
    throw;
  }
  cond.release();
}

}  // namespace

TEST_F(AioCondition, WaitAndNotifyNeedTheLock) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    EXPECT_THROW(co_await cond.wait(), weft::RuntimeError);
    EXPECT_THROW(cond.notify(), weft::RuntimeError);
    EXPECT_THROW(cond.notify_all(), weft::RuntimeError);
    EXPECT_THROW(cond.release(), weft::RuntimeError);
    co_await cond.acquire();
    EXPECT_TRUE(cond.locked());
    cond.notify();  // nobody waits: nothing happens
    cond.notify_all();
    cond.release();
    EXPECT_FALSE(cond.locked());
  }());
}

TEST_F(AioCondition, WaitReleasesTheLockAndReturnsHoldingIt) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    std::vector<int> woken;
    auto waiter = aio::create_task(wait_once(cond, woken, 1));
    co_await yield();
    EXPECT_FALSE(cond.locked()) << "wait() kept the lock";
    {
      auto held = co_await cond.scoped();
      cond.notify();
      co_await yield();
      EXPECT_TRUE(woken.empty()) << "the waiter returned without the lock";
    }
    co_await waiter;
    EXPECT_EQ(woken, std::vector<int>{1});
    EXPECT_FALSE(cond.locked());
  }());
}

TEST_F(AioCondition, NotifyWakesNWaitersInOrderAndNotifyAllTheRest) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    std::vector<int> woken;
    std::vector<aio::TaskHandle<void>> waiters;
    for (int id = 0; id < 5; ++id) waiters.push_back(aio::create_task(wait_once(cond, woken, id)));
    co_await yield();
    {
      auto held = co_await cond.scoped();
      cond.notify(2);
    }
    co_await until([&] { return woken.size() == 2; });
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_EQ(woken, (std::vector<int>{0, 1}));
    {
      auto held = co_await cond.scoped();
      cond.notify_all();
    }
    for (auto& waiter : waiters) co_await waiter;
    EXPECT_EQ(woken, (std::vector<int>{0, 1, 2, 3, 4}));
  }());
}

TEST_F(AioCondition, WaitForReturnsThePredicatesValue) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    int value = 0;
    int checks = 0;
    auto waiter = aio::create_task([](aio::Condition& cond, int& value, int& checks) -> aio::Task<int> {
      auto held = co_await cond.scoped();
      co_return co_await cond.wait_for([&] {
        ++checks;
        return value >= 3 ? value : 0;
      });
    }(cond, value, checks));
    for (int i = 1; i <= 3; ++i) {
      co_await yield();
      auto held = co_await cond.scoped();
      value = i;
      cond.notify_all();
    }
    EXPECT_EQ(co_await waiter, 3);
    EXPECT_EQ(checks, 4);  // once at first, then after each of three notifications
  }());
}

TEST_F(AioCondition, WaitForATruePredicateDoesNotWait) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    EXPECT_TRUE(co_await cond.wait_for([] { return true; }));
  }());
}

TEST_F(AioCondition, ASharedLockServesSeveralConditions) {
  run([]() -> aio::Task<void> {
    aio::Lock lock;
    aio::Condition a(lock);
    aio::Condition b(lock);
    co_await a.acquire();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(b.locked());
    b.notify();
    b.release();
    EXPECT_FALSE(a.locked());
  }());
}

TEST_F(AioCondition, CancelledWhileWaitingItRaisesOnlyOnceItHoldsTheLockAgain) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    bool held_at_cancel = false;
    auto waiter = aio::create_task(wait_until_cancelled(cond, held_at_cancel));
    co_await yield();
    co_await cond.acquire();
    waiter.cancel();
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_FALSE(waiter.done()) << "the cancelled waiter returned while another task held the lock";
    cond.release();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(held_at_cancel);
    EXPECT_FALSE(cond.locked());
  }());
}

TEST_F(AioCondition, ACancellationWhileReacquiringIsKeptUntilTheLockIsHeld) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    bool held_at_cancel = false;
    auto waiter = aio::create_task(wait_until_cancelled(cond, held_at_cancel));
    co_await yield();
    co_await cond.acquire();
    cond.notify();
    co_await yield();  // the waiter now waits for the lock
    waiter.cancel("first");
    for (int i = 0; i < 3; ++i) co_await yield();
    waiter.cancel("second");
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_FALSE(waiter.done());
    cond.release();
    try {
      co_await waiter;
      ADD_FAILURE() << "the cancelled waiter returned normally";
    } catch (const aio::CancelledError& error) {
      EXPECT_STREQ(error.what(), "second");
    }
    EXPECT_TRUE(held_at_cancel);
    EXPECT_FALSE(cond.locked());
  }());
}

TEST_F(AioCondition, ANotifiedWaiterThatIsCancelledPassesTheNotificationOn) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    std::vector<int> woken;
    auto first = aio::create_task(wait_once(cond, woken, 1));
    auto second = aio::create_task(wait_once(cond, woken, 2));
    auto third = aio::create_task(wait_once(cond, woken, 3));
    co_await yield();
    {
      auto held = co_await cond.scoped();
      cond.notify(1);  // for `first`...
      first.cancel();  // ...which is cancelled before it runs
    }
    EXPECT_THROW(co_await first, aio::CancelledError);
    co_await second;
    EXPECT_EQ(woken, std::vector<int>{2});
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_FALSE(third.done()) << "one notification woke two waiters";
    third.cancel();
    EXPECT_THROW(co_await third, aio::CancelledError);
  }());
}

TEST_F(AioCondition, CancellingAWaiterThatWasNotNotifiedWakesNobody) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    std::vector<int> woken;
    auto first = aio::create_task(wait_once(cond, woken, 1));
    auto second = aio::create_task(wait_once(cond, woken, 2));
    co_await yield();
    first.cancel();
    EXPECT_THROW(co_await first, aio::CancelledError);
    for (int i = 0; i < 3; ++i) co_await yield();
    EXPECT_FALSE(second.done());
    {
      auto held = co_await cond.scoped();
      cond.notify();
    }
    co_await second;
    EXPECT_EQ(woken, std::vector<int>{2});
  }());
}

TEST_F(AioCondition, ProducerConsumerThroughACondition) {
  run([]() -> aio::Task<void> {
    aio::Condition cond;
    std::vector<int> items;
    std::vector<int> consumed;
    auto consumer = [](aio::Condition& cond, std::vector<int>& items, std::vector<int>& consumed) -> aio::Task<void> {
      for (;;) {
        auto held = co_await cond.scoped();
        co_await cond.wait_for([&] { return !items.empty(); });
        const int item = items.front();
        items.erase(items.begin());
        if (item < 0) co_return;
        consumed.push_back(item);
      }
    };
    auto a = aio::create_task(consumer(cond, items, consumed));
    auto b = aio::create_task(consumer(cond, items, consumed));
    for (int i = 0; i < 1000; ++i) {
      auto held = co_await cond.scoped();
      items.push_back(i);
      cond.notify();
      if (i % 7 == 0) {
        held.release();
        co_await yield();
      }
    }
    {
      auto held = co_await cond.scoped();
      items.push_back(-1);
      items.push_back(-1);
      cond.notify_all();
    }
    co_await a;
    co_await b;
    std::vector<int> expected(1000);
    for (int i = 0; i < 1000; ++i) expected[static_cast<std::size_t>(i)] = i;
    EXPECT_EQ(consumed, expected);
  }());
}
