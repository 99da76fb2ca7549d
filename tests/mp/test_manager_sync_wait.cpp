// A manager's Event, Condition and Barrier, called directly on the server
// objects.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "manager_sync_support.hpp"
#include "weft/errors.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/threading/barrier.hpp"

namespace weft::mp::test {
namespace {

TEST(ManagerSyncEvent, SetClearAndIsSet) {
  auto event = make("Event");
  FakeCaller a(1);
  EXPECT_FALSE(call<bool>(*event, a, "is_set"));
  call(*event, a, "set");
  EXPECT_TRUE(call<bool>(*event, a, "is_set"));
  EXPECT_TRUE(call<bool>(*event, a, "wait", kForever));
  call(*event, a, "clear");
  EXPECT_FALSE(call<bool>(*event, a, "is_set"));
}

TEST(ManagerSyncEvent, WaitTimesOutAndCountsANegativeTimeoutAsZero) {
  auto event = make("Event");
  FakeCaller a(1);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(call<bool>(*event, a, "wait", std::optional(0.12)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 110ms);
  EXPECT_FALSE(call<bool>(*event, a, "wait", std::optional(0.0)));
  EXPECT_FALSE(call<bool>(*event, a, "wait", std::optional(-0.5)));
  call(*event, a, "set");
  EXPECT_TRUE(call<bool>(*event, a, "wait", std::optional(-0.5)));
  EXPECT_THROW(call<bool>(*event, a, "wait", std::optional(std::nan(""))), ValueError);
}

TEST(ManagerSyncEvent, SetWakesEveryWaiter) {
  auto event = make("Event");
  FakeCaller a(1), b(2), c(3);
  auto first = in_thread([&] { return call<bool>(*event, b, "wait", kForever); });
  auto second = in_thread([&] { return call<bool>(*event, c, "wait", std::optional(60.0)); });
  call(*event, a, "set");
  ASSERT_TRUE(finishes(first));
  ASSERT_TRUE(finishes(second));
  EXPECT_TRUE(first.get());
  EXPECT_TRUE(second.get());
}

TEST(ManagerSyncEvent, AWaiterWhoseClientHangsUpGivesUp) {
  auto event = make("Event");
  FakeCaller b(2);
  auto waiter = in_thread([&] { return call<bool>(*event, b, "wait", kForever); });
  b.hang_up();
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), ManagerGoneError);
}

TEST(ManagerSyncCondition, WaitAndNotifyNeedTheLock) {
  auto condition = make("Condition");
  FakeCaller a(1), b(2);
  EXPECT_THROW(call<bool>(*condition, a, "wait", kForever), RuntimeError);
  EXPECT_THROW(call(*condition, a, "notify", std::size_t{1}), RuntimeError);
  EXPECT_THROW(call(*condition, a, "notify_all"), RuntimeError);
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, kForever));
  EXPECT_THROW(call<bool>(*condition, b, "wait", kForever), RuntimeError);
  EXPECT_THROW(call(*condition, b, "notify", std::size_t{1}), RuntimeError);
  EXPECT_THROW(call(*condition, b, "release"), RuntimeError);
  call(*condition, a, "notify", std::size_t{1});
  call(*condition, a, "notify_all");
  call(*condition, a, "release");
}

TEST(ManagerSyncCondition, ATimedOutWaitKeepsTheLockAtEveryLevel) {
  auto condition = make("Condition");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, kForever));
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, kForever));
  EXPECT_FALSE(call<bool>(*condition, a, "wait", std::optional(0.05)));
  EXPECT_FALSE(call<bool>(*condition, b, "acquire", false, kForever));
  call(*condition, a, "release");
  call(*condition, a, "release");
  EXPECT_TRUE(call<bool>(*condition, b, "acquire", false, kForever));
  EXPECT_FALSE(call<bool>(*condition, b, "wait", std::optional(-1.0))) << "a negative timeout counts as 0";
  EXPECT_FALSE(call<bool>(*condition, a, "acquire", false, kForever)) << "the lock is held again";
  call(*condition, b, "release");
}

TEST(ManagerSyncCondition, NotifyWakesAWaiterThatGetsTheLockBack) {
  auto condition = make("Condition");
  auto ready = make("Event");
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] {
    call<bool>(*condition, b, "acquire", true, kForever);
    call(*ready, b, "set");
    const bool notified = call<bool>(*condition, b, "wait", kForever);
    call(*condition, b, "release");  // throws unless b owns the lock again
    return notified;
  });
  ASSERT_TRUE(call<bool>(*ready, a, "wait", std::optional(10.0)));
  // b released the lock inside wait(): a can take it and notify.
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, std::optional(10.0)));
  call(*condition, a, "notify", std::size_t{1});
  call(*condition, a, "release");
  ASSERT_TRUE(finishes(waiter));
  EXPECT_TRUE(waiter.get());
}

TEST(ManagerSyncCondition, AWaiterWhoseClientHangsUpLetsGoOfTheLock) {
  auto condition = make("Condition");
  auto ready = make("Event");
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] {
    call<bool>(*condition, b, "acquire", true, kForever);
    call(*ready, b, "set");
    return call<bool>(*condition, b, "wait", kForever);
  });
  ASSERT_TRUE(call<bool>(*ready, a, "wait", std::optional(10.0)));
  b.hang_up();
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), ManagerGoneError);
  condition->disconnected(b.connection());
  EXPECT_TRUE(call<bool>(*condition, a, "acquire", false, kForever));
}

TEST(ManagerSyncCondition, ANotifyForAWaiterWhoseClientHungUpGoesToTheNext) {
  auto condition = make("Condition");
  auto first_waits = make("Event");
  auto second_waits = make("Event");
  FakeCaller a(1), gone(2), live(3);
  auto first = in_thread([&] {
    call<bool>(*condition, gone, "acquire", true, kForever);
    call(*first_waits, gone, "set");
    return call<bool>(*condition, gone, "wait", kForever);
  });
  ASSERT_TRUE(call<bool>(*first_waits, a, "wait", std::optional(10.0)));
  auto second = in_thread([&] {
    // Granted once the first waiter's wait() has let go of the lock.
    call<bool>(*condition, live, "acquire", true, kForever);
    call(*second_waits, live, "set");
    const bool notified = call<bool>(*condition, live, "wait", std::optional(10.0));
    call(*condition, live, "release");
    return notified;
  });
  ASSERT_TRUE(call<bool>(*second_waits, a, "wait", std::optional(10.0)));
  // Both wait; while a holds the lock neither can leave its wait().
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, std::optional(10.0)));
  gone.hang_up();
  call(*condition, a, "notify", std::size_t{1});
  call(*condition, a, "release");
  ASSERT_TRUE(finishes(first));
  EXPECT_THROW(first.get(), ManagerGoneError);
  condition->disconnected(gone.connection());  // as the server does when it sees the hang-up
  ASSERT_TRUE(finishes(second));
  EXPECT_TRUE(second.get());
}

// The notify a gone waiter passes on may only reach one that was waiting
// when it was made: here the notifier itself, waiting afterwards, gets none.
TEST(ManagerSyncCondition, ANotifyPassedOnByAGoneWaiterWakesNoOneWhoCameLater) {
  auto condition = make("Condition");
  FakeCaller a(1);
  std::uint64_t next_id = 2;
  for (const char* notify : {"notify", "notify_all"}) {
    auto waiting = make("Event");
    FakeCaller gone(next_id++);
    auto first = in_thread([&] {
      call<bool>(*condition, gone, "acquire", true, kForever);
      call(*waiting, gone, "set");
      return call<bool>(*condition, gone, "wait", std::optional(10.0));
    });
    ASSERT_TRUE(call<bool>(*waiting, a, "wait", std::optional(10.0)));
    // Granted once the waiter's wait() has let go of the lock.
    ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, std::optional(10.0)));
    gone.hang_up();
    if (std::string(notify) == "notify") call(*condition, a, notify, std::size_t{1});
    else call(*condition, a, notify);
    EXPECT_FALSE(call<bool>(*condition, a, "wait", std::optional(0.3))) << "woken by a passed-on " << notify;
    call(*condition, a, "release");
    ASSERT_TRUE(finishes(first));
    EXPECT_THROW(first.get(), ManagerGoneError);
    condition->disconnected(gone.connection());
  }
}

TEST(ManagerSyncCondition, TheLockIsFreeWhileEveryoneElseWaits) {
  auto condition = make("Condition");
  auto ready = make("Event");
  FakeCaller a(1), b(2), c(3), d(4), e(5);
  std::vector<Running<bool>> waiters;
  for (FakeCaller* caller : {&b, &c, &d, &e}) {
    waiters.push_back(in_thread([&condition, &ready, caller] {
      call<bool>(*condition, *caller, "acquire", true, kForever);
      call(*ready, *caller, "set");
      const bool notified = call<bool>(*condition, *caller, "wait", kForever);
      call(*condition, *caller, "release");
      return notified;
    }));
    ASSERT_TRUE(call<bool>(*ready, a, "wait", std::optional(10.0)));
    call(*ready, a, "clear");
  }
  // a gets the lock once the last waiter's wait() has released it; from
  // then on nobody holds it, while every waiter goes through several of
  // the server's wait slices (each asks whether its client is there).
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, std::optional(10.0)));
  call(*condition, a, "release");
  constexpr std::uint64_t kSlices = 4;
  std::vector<std::pair<FakeCaller*, std::uint64_t>> checked;
  for (FakeCaller* caller : {&b, &c, &d, &e}) checked.emplace_back(caller, caller->checks());
  const auto sliced = [&] {
    return std::ranges::all_of(checked, [](const auto& at) { return at.first->checks() >= at.second + kSlices; });
  };
  const auto until = std::chrono::steady_clock::now() + kPatience;
  int busy = 0;
  while (!sliced() && std::chrono::steady_clock::now() < until) {
    if (call<bool>(*condition, a, "locked")) ++busy;
    if (call<bool>(*condition, a, "acquire", false, kForever)) {
      call(*condition, a, "release");
    } else {
      ++busy;
    }
  }
  EXPECT_TRUE(sliced()) << "the waiters did not go through " << kSlices << " slices";
  EXPECT_EQ(busy, 0);
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, std::optional(10.0)));
  call(*condition, a, "notify_all");
  call(*condition, a, "release");
  for (auto& waiter : waiters) {
    ASSERT_TRUE(finishes(waiter));
    EXPECT_TRUE(waiter.get());
  }
}

TEST(ManagerSyncCondition, DisconnectingTheHolderReleasesTheLock) {
  auto condition = make("Condition");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*condition, a, "acquire", true, kForever));
  condition->disconnected(a.connection());
  EXPECT_TRUE(call<bool>(*condition, b, "acquire", false, kForever));
}

TEST(ManagerSyncBarrier, PartiesMeetWithDistinctIndices) {
  auto barrier = make("Barrier", args(std::size_t{3}, kForever));
  FakeCaller callers[] = {FakeCaller(1), FakeCaller(2), FakeCaller(3)};
  EXPECT_EQ(call<std::size_t>(*barrier, callers[0], "parties"), 3u);
  for (int round = 0; round < 2; ++round) {
    std::vector<Running<std::size_t>> waiters;
    for (auto& caller : callers) {
      waiters.push_back(in_thread([&] { return call<std::size_t>(*barrier, caller, "wait", kForever); }));
    }
    std::set<std::size_t> indices;
    for (auto& waiter : waiters) {
      ASSERT_TRUE(finishes(waiter));
      indices.insert(waiter.get());
    }
    EXPECT_EQ(indices, (std::set<std::size_t>{0, 1, 2}));
  }
  EXPECT_FALSE(call<bool>(*barrier, callers[0], "broken"));
}

TEST(ManagerSyncBarrier, ATimeoutBreaksItForEveryWaiter) {
  auto barrier = make("Barrier", args(std::size_t{3}, kForever));
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] { return call<std::size_t>(*barrier, a, "wait", kForever); });
  while (call<std::size_t>(*barrier, b, "n_waiting") == 0) std::this_thread::yield();
  EXPECT_THROW(call<std::size_t>(*barrier, b, "wait", std::optional(0.05)), BrokenBarrierError);
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), BrokenBarrierError);
  EXPECT_TRUE(call<bool>(*barrier, b, "broken"));
  EXPECT_THROW(call<std::size_t>(*barrier, b, "wait", kForever), BrokenBarrierError);
}

TEST(ManagerSyncBarrier, TheDefaultTimeoutApplies) {
  auto barrier = make("Barrier", args(std::size_t{2}, std::optional(0.05)));
  FakeCaller a(1);
  EXPECT_THROW(call<std::size_t>(*barrier, a, "wait", kForever), BrokenBarrierError);
}

TEST(ManagerSyncBarrier, ANegativeTimeoutCountsAsZero) {
  FakeCaller a(1);
  auto filled = make("Barrier", args(std::size_t{1}, std::optional(-1.0)));
  EXPECT_EQ(call<std::size_t>(*filled, a, "wait", kForever), 0u);
  auto barrier = make("Barrier", args(std::size_t{2}, kForever));
  EXPECT_THROW(call<std::size_t>(*barrier, a, "wait", std::optional(-1.0)), BrokenBarrierError);
}

TEST(ManagerSyncBarrier, AbortBreaksAndResetRepairs) {
  auto barrier = make("Barrier", args(std::size_t{2}, kForever));
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] { return call<std::size_t>(*barrier, a, "wait", kForever); });
  while (call<std::size_t>(*barrier, b, "n_waiting") == 0) std::this_thread::yield();
  call(*barrier, b, "abort");
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), BrokenBarrierError);
  EXPECT_TRUE(call<bool>(*barrier, b, "broken"));
  call(*barrier, b, "reset");
  EXPECT_FALSE(call<bool>(*barrier, b, "broken"));
  auto again = in_thread([&] { return call<std::size_t>(*barrier, a, "wait", kForever); });
  const std::size_t mine = call<std::size_t>(*barrier, b, "wait", std::optional(10.0));
  ASSERT_TRUE(finishes(again));
  EXPECT_EQ(mine + again.get(), 1u);
}

TEST(ManagerSyncBarrier, ResetWakesWaitersWithBrokenBarrierError) {
  auto barrier = make("Barrier", args(std::size_t{2}, kForever));
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] { return call<std::size_t>(*barrier, a, "wait", kForever); });
  while (call<std::size_t>(*barrier, b, "n_waiting") == 0) std::this_thread::yield();
  call(*barrier, b, "reset");
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), BrokenBarrierError);
  EXPECT_FALSE(call<bool>(*barrier, b, "broken"));
}

TEST(ManagerSyncBarrier, AWaiterWhoseClientHangsUpBreaksIt) {
  auto barrier = make("Barrier", args(std::size_t{3}, kForever));
  FakeCaller a(1), b(2), c(3);
  auto gone = in_thread([&] { return call<std::size_t>(*barrier, a, "wait", kForever); });
  auto stays = in_thread([&] { return call<std::size_t>(*barrier, b, "wait", kForever); });
  while (call<std::size_t>(*barrier, c, "n_waiting") < 2) std::this_thread::yield();
  a.hang_up();
  ASSERT_TRUE(finishes(gone));
  ASSERT_TRUE(finishes(stays));
  EXPECT_THROW(gone.get(), ManagerGoneError);
  EXPECT_THROW(stays.get(), BrokenBarrierError);
  EXPECT_TRUE(call<bool>(*barrier, c, "broken"));
}

TEST(ManagerSyncBarrier, BadArgumentsAreValueErrors) {
  EXPECT_THROW(manager::detail::make_sync_object("Barrier", args(std::size_t{0}, kForever)), ValueError);
  EXPECT_THROW(manager::detail::make_sync_object("Barrier", args(std::size_t{2}, std::optional(std::nan("")))),
               ValueError);
  auto barrier = make("Barrier", args(std::size_t{2}, kForever));
  FakeCaller a(1);
  EXPECT_THROW(call<std::size_t>(*barrier, a, "wait", std::optional(std::nan(""))), ValueError);
  EXPECT_EQ(call<std::size_t>(*barrier, a, "n_waiting"), 0u);
}

}  // namespace
}  // namespace weft::mp::test
