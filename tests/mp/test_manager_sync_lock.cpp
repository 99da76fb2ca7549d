// A manager's Lock, RLock, Semaphore and BoundedSemaphore, called directly
// on the server objects.
#include <gtest/gtest.h>

#include <cmath>
#include <exception>

#include "manager_sync_support.hpp"
#include "weft/codec.hpp"
#include "weft/errors.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::mp::test {
namespace {

TEST(ManagerSyncLock, AcquireReleaseAndLocked) {
  auto lock = make("Lock");
  FakeCaller a(1);
  EXPECT_FALSE(call<bool>(*lock, a, "locked"));
  EXPECT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  EXPECT_TRUE(call<bool>(*lock, a, "locked"));
  call(*lock, a, "release");
  EXPECT_FALSE(call<bool>(*lock, a, "locked"));
}

TEST(ManagerSyncLock, NonBlockingAndTimedAcquireFailWhileHeld) {
  auto lock = make("Lock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  EXPECT_FALSE(call<bool>(*lock, b, "acquire", false, kForever));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(call<bool>(*lock, b, "acquire", true, std::optional(0.12)));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 110ms);
  EXPECT_FALSE(call<bool>(*lock, a, "acquire", false, kForever)) << "a Lock is not recursive";
}

TEST(ManagerSyncLock, AnyConnectionMayReleaseAPlainLock) {
  auto lock = make("Lock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  call(*lock, b, "release");
  EXPECT_TRUE(call<bool>(*lock, b, "acquire", false, kForever));
}

TEST(ManagerSyncLock, ReleasingAnUnlockedLockIsARuntimeError) {
  auto lock = make("Lock");
  FakeCaller a(1);
  EXPECT_THROW(call(*lock, a, "release"), RuntimeError);
}

TEST(ManagerSyncLock, BadTimeoutsAreValueErrors) {
  auto lock = make("Lock");
  FakeCaller a(1);
  EXPECT_THROW(call<bool>(*lock, a, "acquire", false, std::optional(1.0)), ValueError);
  EXPECT_THROW(call<bool>(*lock, a, "acquire", true, std::optional(-1.0)), ValueError);
  EXPECT_THROW(call<bool>(*lock, a, "acquire", true, std::optional(std::nan(""))), ValueError);
  EXPECT_FALSE(call<bool>(*lock, a, "locked"));
}

TEST(ManagerSyncLock, UnknownMethodIsAnAttributeErrorAndBadArgumentsADecodeError) {
  auto lock = make("Lock");
  FakeCaller a(1);
  EXPECT_THROW(call(*lock, a, "frobnicate"), AttributeError);
  EXPECT_THROW(call<bool>(*lock, a, "acquire", std::string("yes"), kForever), codec::DecodeError);
  EXPECT_THROW(lock->call("acquire", "\xc1", a), codec::DecodeError);
  EXPECT_FALSE(call<bool>(*lock, a, "locked"));
}

TEST(ManagerSyncLock, ABlockedAcquireIsWokenByARelease) {
  auto lock = make("Lock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  auto waiter = in_thread([&] { return call<bool>(*lock, b, "acquire", true, kForever); });
  call(*lock, a, "release");
  ASSERT_TRUE(finishes(waiter));
  EXPECT_TRUE(waiter.get());
}

TEST(ManagerSyncLock, DisconnectingTheHolderReleasesIt) {
  auto lock = make("Lock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  auto waiter = in_thread([&] { return call<bool>(*lock, b, "acquire", true, kForever); });
  a.hang_up();
  lock->disconnected(a.connection());
  ASSERT_TRUE(finishes(waiter));
  EXPECT_TRUE(waiter.get());
  lock->disconnected(a.connection());  // no longer the holder: nothing happens
  EXPECT_TRUE(call<bool>(*lock, b, "locked"));
}

TEST(ManagerSyncLock, AWaiterWhoseClientHangsUpGivesUp) {
  auto lock = make("Lock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  auto waiter = in_thread([&] { return call<bool>(*lock, b, "acquire", true, kForever); });
  b.hang_up();
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), ManagerGoneError);
  call(*lock, a, "release");
  EXPECT_FALSE(call<bool>(*lock, a, "locked"));
}

TEST(ManagerSyncLock, AnAbandonedWaitReachesAClientStillListeningAsManagerGoneError) {
  auto lock = make("Lock");
  FakeCaller a(1), stopping(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  stopping.hang_up();
  std::exception_ptr error;
  try {
    call<bool>(*lock, stopping, "acquire", true, kForever);
  } catch (...) {
    error = std::current_exception();
  }
  ASSERT_TRUE(error);
  auto sent = codec::decode<detail::EncodedException>(codec::encode(encode_exception(error)));
  EXPECT_THROW(std::rethrow_exception(decode_exception(sent)), ManagerGoneError);
}

TEST(ManagerSyncLock, AnAcquireByAClientAlreadyGoneDoesNotKeepTheLock) {
  auto lock = make("Lock");
  FakeCaller gone(1);
  gone.hang_up();
  EXPECT_THROW(call<bool>(*lock, gone, "acquire", true, kForever), ManagerGoneError);
  EXPECT_FALSE(call<bool>(*lock, gone, "locked"));
}

// Another connection releases a plain Lock the instant its acquirer takes
// it. Whatever the interleaving, the acquirer ends up owning nothing: its
// hang-up must touch neither the free lock nor a third connection's hold.
// Bounded: a few thousand short rounds.
TEST(ManagerSyncLock, AReleaseRacingAnAcquireLeavesTheAcquirerOwningNothing) {
  constexpr int kRounds = 3000;
  for (int round = 0; round < kRounds; ++round) {
    auto lock = make("Lock");
    FakeCaller acquirer(1), releaser(2), third(3);
    auto taken = in_thread([&] { return call<bool>(*lock, acquirer, "acquire", true, kForever); });
    const auto until = std::chrono::steady_clock::now() + kPatience;
    for (;;) {  // releases the lock as soon as it is held
      try {
        call(*lock, releaser, "release");
        break;
      } catch (const RuntimeError&) {
        ASSERT_LT(std::chrono::steady_clock::now(), until) << "the acquirer never took the lock";
      }
    }
    ASSERT_TRUE(finishes(taken));
    ASSERT_TRUE(taken.get());
    ASSERT_NO_THROW(lock->disconnected(acquirer.connection())) << "round " << round;
    ASSERT_TRUE(call<bool>(*lock, third, "acquire", true, std::optional(10.0))) << "round " << round;
    lock->disconnected(acquirer.connection());
    ASSERT_TRUE(call<bool>(*lock, third, "locked")) << "round " << round;
    call(*lock, third, "release");
  }
}

TEST(ManagerSyncRLock, TheOwnerReentersAndReleasesEveryLevel) {
  auto lock = make("RLock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", false, kForever));
  EXPECT_FALSE(call<bool>(*lock, b, "acquire", false, kForever));
  call(*lock, a, "release");
  EXPECT_FALSE(call<bool>(*lock, b, "acquire", false, kForever));
  call(*lock, a, "release");
  EXPECT_TRUE(call<bool>(*lock, b, "acquire", false, kForever));
}

TEST(ManagerSyncRLock, OnlyTheOwnerMayRelease) {
  auto lock = make("RLock");
  FakeCaller a(1), b(2);
  EXPECT_THROW(call(*lock, a, "release"), RuntimeError);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  EXPECT_THROW(call(*lock, b, "release"), RuntimeError);
  EXPECT_TRUE(call<bool>(*lock, a, "locked"));
}

TEST(ManagerSyncRLock, DisconnectingTheOwnerReleasesEveryLevel) {
  auto lock = make("RLock");
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  ASSERT_TRUE(call<bool>(*lock, a, "acquire", true, kForever));
  lock->disconnected(b.connection());
  EXPECT_TRUE(call<bool>(*lock, a, "locked"));
  lock->disconnected(a.connection());
  EXPECT_TRUE(call<bool>(*lock, b, "acquire", false, kForever));
}

TEST(ManagerSyncSemaphore, CountsDownAndUp) {
  auto semaphore = make("Semaphore", args(2));
  FakeCaller a(1);
  EXPECT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  EXPECT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  EXPECT_FALSE(call<bool>(*semaphore, a, "acquire", false, kForever));
  EXPECT_FALSE(call<bool>(*semaphore, a, "acquire", true, std::optional(0.05)));
  call(*semaphore, a, "release");
  EXPECT_EQ(call<unsigned>(*semaphore, a, "get_value"), 1u);
  EXPECT_THROW(call<bool>(*semaphore, a, "acquire", false, std::optional(1.0)), ValueError);
  EXPECT_THROW(call(*semaphore, a, "locked"), AttributeError);
}

TEST(ManagerSyncSemaphore, DefaultsToOneAndRejectsANegativeValue) {
  auto semaphore = make("Semaphore");
  FakeCaller a(1);
  EXPECT_EQ(call<unsigned>(*semaphore, a, "get_value"), 1u);
  EXPECT_THROW(manager::detail::make_sync_object("Semaphore", args(-1)), ValueError);
}

TEST(ManagerSyncSemaphore, ANegativeTimeoutCountsAsZero) {
  auto semaphore = make("Semaphore", args(0));
  FakeCaller a(1);
  EXPECT_FALSE(call<bool>(*semaphore, a, "acquire", true, std::optional(-1.0)));
  call(*semaphore, a, "release");
  EXPECT_TRUE(call<bool>(*semaphore, a, "acquire", true, std::optional(-1.0)));
}

TEST(ManagerSyncSemaphore, AReleaseWakesABlockedAcquire) {
  auto semaphore = make("Semaphore", args(0));
  FakeCaller a(1), b(2);
  auto waiter = in_thread([&] { return call<bool>(*semaphore, b, "acquire", true, kForever); });
  call(*semaphore, a, "release");
  ASSERT_TRUE(finishes(waiter));
  EXPECT_TRUE(waiter.get());
}

TEST(ManagerSyncSemaphore, APlainSemaphoreIsNotGivenBackOnDisconnect) {
  auto semaphore = make("Semaphore", args(1));
  FakeCaller a(1);
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  semaphore->disconnected(a.connection());
  EXPECT_EQ(call<unsigned>(*semaphore, a, "get_value"), 0u);
}

TEST(ManagerSyncSemaphore, ABoundedSemaphoreRefusesToExceedItsValue) {
  auto semaphore = make("BoundedSemaphore", args(1));
  FakeCaller a(1);
  EXPECT_THROW(call(*semaphore, a, "release"), ValueError);
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  call(*semaphore, a, "release");
  EXPECT_EQ(call<unsigned>(*semaphore, a, "get_value"), 1u);
}

TEST(ManagerSyncSemaphore, ABoundedSemaphoreGetsBackWhatADisconnectedClientHeld) {
  auto semaphore = make("BoundedSemaphore", args(3));
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  ASSERT_TRUE(call<bool>(*semaphore, b, "acquire", true, kForever));
  call(*semaphore, a, "release");
  semaphore->disconnected(a.connection());
  EXPECT_EQ(call<unsigned>(*semaphore, b, "get_value"), 2u);
  // Released on a's behalf by b already: nothing more to give back.
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  call(*semaphore, b, "release");
  call(*semaphore, b, "release");
  semaphore->disconnected(a.connection());
  EXPECT_EQ(call<unsigned>(*semaphore, b, "get_value"), 3u);
}

TEST(ManagerSyncSemaphore, AReleaseOnAnothersBehalfIsNotGivenBackAgain) {
  auto semaphore = make("BoundedSemaphore", args(1));
  FakeCaller a(1), b(2), c(3), d(4);
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  call(*semaphore, b, "release");  // on a's behalf
  ASSERT_TRUE(call<bool>(*semaphore, c, "acquire", false, kForever));
  semaphore->disconnected(a.connection());
  EXPECT_EQ(call<unsigned>(*semaphore, d, "get_value"), 0u);
  EXPECT_FALSE(call<bool>(*semaphore, d, "acquire", false, kForever));
  semaphore->disconnected(c.connection());
  EXPECT_EQ(call<unsigned>(*semaphore, d, "get_value"), 1u);
}

TEST(ManagerSyncSemaphore, AWaiterWhoseClientHangsUpGivesUp) {
  auto semaphore = make("BoundedSemaphore", args(1));
  FakeCaller a(1), b(2);
  ASSERT_TRUE(call<bool>(*semaphore, a, "acquire", true, kForever));
  auto waiter = in_thread([&] { return call<bool>(*semaphore, b, "acquire", true, kForever); });
  b.hang_up();
  ASSERT_TRUE(finishes(waiter));
  EXPECT_THROW(waiter.get(), ManagerGoneError);
  EXPECT_EQ(call<unsigned>(*semaphore, a, "get_value"), 0u);
}

TEST(ManagerSyncSemaphore, AnAcquireByAClientAlreadyGoneIsGivenBack) {
  auto semaphore = make("BoundedSemaphore", args(1));
  FakeCaller gone(1), b(2);
  gone.hang_up();
  EXPECT_THROW(call<bool>(*semaphore, gone, "acquire", true, kForever), ManagerGoneError);
  EXPECT_EQ(call<unsigned>(*semaphore, b, "get_value"), 1u);
}

TEST(ManagerSync, MalformedConstructorArgumentsAreDecodeErrors) {
  EXPECT_THROW(manager::detail::make_sync_object("Semaphore", args(std::string("one"))), codec::DecodeError);
  EXPECT_THROW(manager::detail::make_sync_object("Barrier", "\xc1"), codec::DecodeError);
  EXPECT_THROW(manager::detail::make_sync_object("Queue", args(1.5)), codec::DecodeError);
}

TEST(ManagerSync, OtherTypeidsAreNotMadeHere) {
  EXPECT_EQ(manager::detail::make_sync_object("dict", args()), nullptr);
}

}  // namespace
}  // namespace weft::mp::test
