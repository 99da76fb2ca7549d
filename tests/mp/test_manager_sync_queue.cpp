// A manager's Queue and JoinableQueue, called directly on the server
// objects.
#include <gtest/gtest.h>

#include "manager_sync_support.hpp"
#include "weft/errors.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/queue/errors.hpp"

namespace weft::mp::test {
namespace {

std::string item(int n) { return codec::encode(n); }

TEST(ManagerSyncQueue, FirstInFirstOut) {
  auto queue = make("Queue");
  FakeCaller a(1);
  EXPECT_TRUE(call<bool>(*queue, a, "empty"));
  for (int n = 0; n < 3; ++n) call(*queue, a, "put", item(n), true, kForever);
  call(*queue, a, "put_nowait", item(3));
  EXPECT_EQ(call<std::size_t>(*queue, a, "qsize"), 4u);
  EXPECT_FALSE(call<bool>(*queue, a, "full"));
  EXPECT_EQ(call<std::size_t>(*queue, a, "maxsize"), 0u);
  for (int n = 0; n < 3; ++n) EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(n));
  EXPECT_EQ(call<std::string>(*queue, a, "get_nowait"), item(3));
}

TEST(ManagerSyncQueue, EmptyIsRaisedAndTryGetReturnsNothing) {
  auto queue = make("Queue");
  FakeCaller a(1);
  EXPECT_THROW(call<std::string>(*queue, a, "get_nowait"), Empty);
  EXPECT_THROW(call<std::string>(*queue, a, "get", false, kForever), Empty);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(call<std::string>(*queue, a, "get", true, std::optional(0.12)), Empty);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 110ms);
  EXPECT_EQ(call<std::optional<std::string>>(*queue, a, "try_get", false, kForever), std::nullopt);
  EXPECT_EQ(call<std::optional<std::string>>(*queue, a, "try_get", true, std::optional(0.01)), std::nullopt);
  EXPECT_THROW(call<std::string>(*queue, a, "get", true, std::optional(-1.0)), ValueError);
}

TEST(ManagerSyncQueue, FullIsRaisedAndTryPutReturnsFalse) {
  auto queue = make("Queue", args(2));
  FakeCaller a(1);
  EXPECT_EQ(call<std::size_t>(*queue, a, "maxsize"), 2u);
  EXPECT_TRUE(call<bool>(*queue, a, "try_put", item(1), false, kForever));
  call(*queue, a, "put", item(2), true, kForever);
  EXPECT_TRUE(call<bool>(*queue, a, "full"));
  EXPECT_THROW(call(*queue, a, "put_nowait", item(3)), Full);
  EXPECT_THROW(call(*queue, a, "put", item(3), true, std::optional(0.05)), Full);
  EXPECT_FALSE(call<bool>(*queue, a, "try_put", item(3), true, std::optional(0.01)));
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(1));
}

TEST(ManagerSyncQueue, ANonPositiveMaxsizeIsUnbounded) {
  auto queue = make("Queue", args(-1));
  FakeCaller a(1);
  for (int n = 0; n < 100; ++n) call(*queue, a, "put_nowait", item(n));
  EXPECT_EQ(call<std::size_t>(*queue, a, "qsize"), 100u);
}

TEST(ManagerSyncQueue, APutWakesABlockedGet) {
  auto queue = make("Queue");
  FakeCaller a(1), b(2);
  auto getter = in_thread([&] { return call<std::string>(*queue, b, "get", true, kForever); });
  call(*queue, a, "put", item(7), true, kForever);
  ASSERT_TRUE(finishes(getter));
  EXPECT_EQ(getter.get(), item(7));
}

TEST(ManagerSyncQueue, AGetWakesABlockedPut) {
  auto queue = make("Queue", args(1));
  FakeCaller a(1), b(2);
  call(*queue, a, "put", item(1), true, kForever);
  auto putter = in_thread([&] { call(*queue, b, "put", item(2), true, kForever); });
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(1));
  ASSERT_TRUE(finishes(putter));
  putter.get();
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, std::optional(10.0)), item(2));
}

TEST(ManagerSyncQueue, BlockedCallsWhoseClientHangsUpGiveUpAndTakeNothing) {
  auto queue = make("Queue", args(1));
  FakeCaller a(1), b(2), c(3);
  auto getter =
      in_thread([&] { return call<std::optional<std::string>>(*queue, b, "try_get", true, kForever); });
  b.hang_up();
  ASSERT_TRUE(finishes(getter));
  EXPECT_THROW(getter.get(), ManagerGoneError);
  call(*queue, a, "put", item(1), true, kForever);
  auto putter = in_thread([&] { call(*queue, c, "put", item(2), true, kForever); });
  c.hang_up();
  ASSERT_TRUE(finishes(putter));
  EXPECT_THROW(putter.get(), ManagerGoneError);
  EXPECT_EQ(call<std::size_t>(*queue, a, "qsize"), 1u);
}

TEST(ManagerSyncQueue, AnItemGotForAClientAlreadyGoneGoesBack) {
  auto queue = make("JoinableQueue");
  FakeCaller a(1), gone(2);
  call(*queue, a, "put", item(1), true, kForever);
  call(*queue, a, "put", item(2), true, kForever);
  gone.hang_up();
  EXPECT_THROW(call<std::string>(*queue, gone, "get", true, kForever), ManagerGoneError);
  EXPECT_THROW(call<std::string>(*queue, gone, "get_nowait"), Empty);
  EXPECT_EQ(call<std::size_t>(*queue, a, "qsize"), 2u);
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(1));
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(2));
  call(*queue, a, "task_done");
  call(*queue, a, "task_done");
  EXPECT_TRUE(call<bool>(*queue, a, "join", std::optional(0.0)));
}

TEST(ManagerSyncQueue, AnItemGotForAClientAlreadyGoneGoesBackAfterShutdown) {
  auto queue = make("JoinableQueue", args(1));
  FakeCaller a(1), gone(2);
  call(*queue, a, "put", item(1), true, kForever);
  call(*queue, a, "shutdown", false);
  gone.hang_up();
  EXPECT_THROW(call<std::string>(*queue, gone, "get", true, kForever), ManagerGoneError);
  EXPECT_EQ(call<std::size_t>(*queue, a, "qsize"), 1u);
  EXPECT_EQ(call<std::string>(*queue, a, "get", true, kForever), item(1));
  EXPECT_THROW(call<std::string>(*queue, a, "get", true, kForever), ShutDown);
  EXPECT_FALSE(call<bool>(*queue, a, "join", std::optional(0.0)));
  call(*queue, a, "task_done");
  EXPECT_TRUE(call<bool>(*queue, a, "join", std::optional(0.0)));
}

TEST(ManagerSyncQueue, JoinWaitsForEveryTaskDone) {
  auto queue = make("JoinableQueue");
  FakeCaller a(1), b(2);
  EXPECT_TRUE(call<bool>(*queue, a, "join", kForever));
  call(*queue, a, "put", item(1), true, kForever);
  call(*queue, a, "put", item(2), true, kForever);
  EXPECT_FALSE(call<bool>(*queue, a, "join", std::optional(0.05)));
  auto joiner = in_thread([&] { return call<bool>(*queue, b, "join", kForever); });
  for (int n = 0; n < 2; ++n) {
    call<std::string>(*queue, a, "get", true, kForever);
    call(*queue, a, "task_done");
  }
  ASSERT_TRUE(finishes(joiner));
  EXPECT_TRUE(joiner.get());
  EXPECT_THROW(call(*queue, a, "task_done"), ValueError);
}

TEST(ManagerSyncQueue, AJoinerWhoseClientHangsUpGivesUp) {
  auto queue = make("JoinableQueue");
  FakeCaller a(1), b(2);
  call(*queue, a, "put", item(1), true, kForever);
  auto joiner = in_thread([&] { return call<bool>(*queue, b, "join", kForever); });
  b.hang_up();
  ASSERT_TRUE(finishes(joiner));
  EXPECT_THROW(joiner.get(), ManagerGoneError);
}

TEST(ManagerSyncQueue, ShutdownStopsPutsAndDrainsGets) {
  auto queue = make("Queue");
  FakeCaller a(1), b(2);
  call(*queue, a, "put", item(1), true, kForever);
  auto getter = in_thread([&] {
    call<std::string>(*queue, b, "get", true, kForever);
    return call<std::string>(*queue, b, "get", true, kForever);
  });
  call(*queue, a, "shutdown", false);
  ASSERT_TRUE(finishes(getter));
  EXPECT_THROW(getter.get(), ShutDown);
  EXPECT_THROW(call(*queue, a, "put", item(2), true, kForever), ShutDown);
}

}  // namespace
}  // namespace weft::mp::test
