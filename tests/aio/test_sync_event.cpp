// aio::Event: set/clear/is_set, waking every waiter in order, a woken
// waiter returning although the flag was cleared, and cancellation.
#include <gtest/gtest.h>

#include <vector>

#include "sync_support.hpp"
#include "weft/aio/event.hpp"

namespace aio = weft::aio;
using aio::testing::yield;

namespace {

class AioEvent : public aio::testing::SyncTest {};

aio::Task<void> wait_and_record(aio::Event& event, std::vector<int>& order, int id) {
  co_await event.wait();
  order.push_back(id);
}

}  // namespace

TEST_F(AioEvent, StartsClearedAndSetClearToggleTheFlag) {
  aio::Event event;
  EXPECT_FALSE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.set();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
}

TEST_F(AioEvent, WaitOnASetEventDoesNotSuspend) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    event.set();
    bool other_ran = false;
    auto other = aio::create_task([](bool& ran) -> aio::Task<void> {
      ran = true;
      co_return;
    }(other_ran));
    co_await event.wait();
    EXPECT_FALSE(other_ran);
    co_await other;
  }());
}

TEST_F(AioEvent, SetWakesEveryWaiterInTheOrderTheyCame) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    std::vector<aio::TaskHandle<void>> waiters;
    for (int id = 0; id < 5; ++id) waiters.push_back(aio::create_task(wait_and_record(event, order, id)));
    co_await yield();
    co_await yield();
    EXPECT_TRUE(order.empty());
    event.set();
    for (auto& waiter : waiters) co_await waiter;
    EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
  }());
}

TEST_F(AioEvent, AWokenWaiterReturnsEvenIfTheFlagWasClearedBeforeItRan) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    auto waiter = aio::create_task(wait_and_record(event, order, 1));
    co_await yield();
    event.set();
    event.clear();
    co_await waiter;
    EXPECT_EQ(order, std::vector<int>{1});
    EXPECT_FALSE(event.is_set());
  }());
}

TEST_F(AioEvent, AWaitAfterClearSuspendsUntilTheNextSet) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    event.set();
    event.clear();
    auto waiter = aio::create_task(wait_and_record(event, order, 1));
    co_await yield();
    co_await yield();
    EXPECT_TRUE(order.empty());
    event.set();
    co_await waiter;
    EXPECT_EQ(order, std::vector<int>{1});
  }());
}

TEST_F(AioEvent, CancellingOneWaiterLeavesTheOthersWaiting) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    auto a = aio::create_task(wait_and_record(event, order, 1));
    auto b = aio::create_task(wait_and_record(event, order, 2));
    co_await yield();
    a.cancel("enough");
    try {
      co_await a;
      ADD_FAILURE() << "the cancelled waiter returned";
    } catch (const aio::CancelledError& error) {
      EXPECT_STREQ(error.what(), "enough");
    }
    EXPECT_FALSE(b.done());
    event.set();
    co_await b;
    EXPECT_EQ(order, std::vector<int>{2});
  }());
}

TEST_F(AioEvent, ACancellationAfterTheWakeUpWins) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    auto waiter = aio::create_task(wait_and_record(event, order, 1));
    co_await yield();
    event.set();
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(order.empty());
    EXPECT_TRUE(event.is_set());
  }());
}

TEST_F(AioEvent, ACancellationTakenBackStillEndsTheWait) {
  run([]() -> aio::Task<void> {
    aio::Event event;
    std::vector<int> order;
    auto waiter = aio::create_task(wait_and_record(event, order, 1));
    co_await yield();
    waiter.cancel();
    waiter.uncancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(order.empty()) << "wait() returned although the event was never set";
  }());
}
