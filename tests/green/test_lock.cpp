// green::Semaphore, BoundedSemaphore, Lock and RLock: counting, timeouts,
// FIFO hand-off, over-release errors, ownership, std::lock_guard, and
// waiters interrupted by kill or Timeout.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "weft/errors.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/lock.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TEST(Semaphore, CountsPermits) {
  green::Semaphore semaphore(2);
  EXPECT_EQ(semaphore.counter(), 2);
  EXPECT_FALSE(semaphore.locked());
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.locked());
  EXPECT_FALSE(semaphore.ready());
  EXPECT_FALSE(semaphore.acquire(false));
  semaphore.release();
  EXPECT_EQ(semaphore.counter(), 1);
  // Over-releasing a plain Semaphore is allowed, as in gevent.
  semaphore.release();
  semaphore.release();
  EXPECT_EQ(semaphore.counter(), 3);
  EXPECT_THROW(green::Semaphore(-1), weft::ValueError);
}

TEST(Semaphore, AcquireTimesOut) {
  green::Semaphore semaphore(0);
  const auto start = Clock::now();
  EXPECT_FALSE(semaphore.acquire(true, 40ms));
  EXPECT_GE(Clock::now() - start, 35ms);
  EXPECT_FALSE(semaphore.acquire(true, 0s));
  EXPECT_EQ(semaphore.counter(), 0);
}

TEST(Semaphore, ReleaseWakesAWaiter) {
  green::Semaphore semaphore(0);
  auto releaser = green::spawn([&] { semaphore.release(); });
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_EQ(semaphore.counter(), 0);
  releaser.join();
}

TEST(Semaphore, WaitersGetPermitsInTheOrderTheyWaited) {
  green::Semaphore semaphore(0);
  std::vector<int> order;
  std::vector<green::AnyGreenlet> waiters;
  for (int i = 0; i < 6; ++i) {
    waiters.push_back(green::spawn([&, i] {
      semaphore.acquire();
      order.push_back(i);
    }));
  }
  green::sleep();
  for (int i = 0; i < 6; ++i) semaphore.release();
  green::joinall(waiters);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(semaphore.counter(), 0);
}

TEST(Semaphore, APermitReleasedToAWaiterCannotBeTakenByALaterArrival) {
  green::Semaphore semaphore(0);
  auto waiter = green::spawn([&] { return semaphore.acquire(); });
  green::sleep();
  semaphore.release();  // handed to the waiter, which has not run yet
  EXPECT_FALSE(semaphore.acquire(false));
  EXPECT_TRUE(waiter.get());
}

TEST(Semaphore, AKilledWaiterPassesItsPermitOn) {
  green::Semaphore semaphore(0);
  auto doomed = green::spawn([&] { semaphore.acquire(); });
  auto next = green::spawn([&] { return semaphore.acquire(); });
  green::sleep();
  semaphore.release();          // the permit is on its way to `doomed`...
  doomed.kill(nullptr, false);  // ...which dies before it can use it
  EXPECT_TRUE(next.get());
  doomed.join();
  EXPECT_EQ(semaphore.counter(), 0);
}

TEST(Semaphore, AKilledLastWaiterReturnsItsPermitToTheCounter) {
  green::Semaphore semaphore(0);
  auto doomed = green::spawn([&] { semaphore.acquire(); });
  green::sleep();
  semaphore.release();
  doomed.kill();
  EXPECT_EQ(semaphore.counter(), 1);
  EXPECT_TRUE(semaphore.acquire(false));
}

TEST(Semaphore, AKilledWaiterBeforeAnyReleaseLeavesNoTrace) {
  green::Semaphore semaphore(0);
  auto doomed = green::spawn([&] { semaphore.acquire(); });
  auto next = green::spawn([&] { return semaphore.acquire(); });
  green::sleep();
  doomed.kill();
  semaphore.release();
  EXPECT_TRUE(next.get());
  EXPECT_EQ(semaphore.counter(), 0);
}

TEST(Semaphore, ATimeoutThrownIntoAWaiterTakesNoPermit) {
  green::Semaphore semaphore(0);
  auto waiter = green::spawn([&] {
    green::Timeout limit(20ms);
    try {
      semaphore.acquire();
      return std::string("acquired");
    } catch (const green::Timeout& expired) {
      return std::string(expired == limit ? "timeout" : "other timeout");
    }
  });
  EXPECT_EQ(waiter.get(), "timeout");
  semaphore.release();
  EXPECT_EQ(semaphore.counter(), 1);
}

TEST(Semaphore, WaitParksUntilAPermitIsFreeWithoutTakingIt) {
  green::Semaphore semaphore(0);
  auto waiter = green::spawn([&] { return semaphore.wait(); });
  green::sleep();
  semaphore.release();
  EXPECT_EQ(waiter.get(), 1);
  EXPECT_EQ(semaphore.counter(), 1);
  EXPECT_EQ(semaphore.wait(), 1);
  green::Semaphore empty(0);
  EXPECT_EQ(empty.wait(10ms), 0);
}

// The permit a release() hands to the first wait() is passed on, not taken:
// every wait() it reaches returns it as free, as gevent's does.
TEST(Semaphore, EveryWaitWokenByAReleaseSeesThePermitFree) {
  green::Semaphore semaphore(0);
  auto first = green::spawn([&] { return semaphore.wait(); });
  auto second = green::spawn([&] { return semaphore.wait(); });
  green::sleep();
  semaphore.release();
  EXPECT_EQ(first.get(), 1);
  EXPECT_EQ(second.get(), 1);
  EXPECT_EQ(semaphore.counter(), 1);
}

TEST(Semaphore, LoopExitWhenNothingCanRelease) {
  green::Semaphore semaphore(0);
  try {
    semaphore.acquire();
    FAIL() << "acquire() returned";
  } catch (const green::LoopExit& exit) {
    EXPECT_NE(std::string(exit.what()).find("Semaphore.acquire"), std::string::npos) << exit.what();
  }
  semaphore.release();
  EXPECT_EQ(semaphore.counter(), 1);
}

TEST(BoundedSemaphore, RefusesToBeReleasedPastItsInitialValue) {
  green::BoundedSemaphore semaphore(2);
  EXPECT_THROW(semaphore.release(), weft::ValueError);
  semaphore.acquire();
  semaphore.release();
  EXPECT_THROW(semaphore.release(), weft::ValueError);
  EXPECT_EQ(semaphore.counter(), 2);
}

TEST(BoundedSemaphore, CountsAPermitOnItsWayToAWaiter) {
  green::BoundedSemaphore semaphore(1);
  semaphore.acquire();
  auto waiter = green::spawn([&] { return semaphore.acquire(); });
  green::sleep();
  semaphore.release();  // handed to the waiter
  EXPECT_THROW(semaphore.release(), weft::ValueError);
  EXPECT_TRUE(waiter.get());
  semaphore.release();
  EXPECT_EQ(semaphore.counter(), 1);
}

TEST(Lock, ExcludesOtherGreenlets) {
  green::Lock lock;
  int inside = 0;
  int most = 0;
  std::vector<green::AnyGreenlet> workers;
  for (int i = 0; i < 8; ++i) {
    workers.push_back(green::spawn([&] {
      for (int round = 0; round < 5; ++round) {
        std::lock_guard held(lock);
        most = std::max(most, ++inside);
        green::sleep();  // other greenlets run while it is held
        --inside;
      }
    }));
  }
  green::joinall(workers);
  EXPECT_EQ(most, 1);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, ReleasingAnUnlockedLockIsARuntimeError) {
  green::Lock lock;
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_TRUE(lock.try_lock());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.try_lock());
  // Any greenlet may release it.
  green::spawn([&] { lock.unlock(); }).join();
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, AcquireTimesOut) {
  green::Lock lock;
  lock.acquire();
  auto contender = green::spawn([&] { return lock.acquire(true, 20ms); });
  EXPECT_FALSE(contender.get());
  lock.release();
}

TEST(RLock, TheOwnerMayAcquireAgain) {
  green::RLock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.is_owned());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_FALSE(lock.is_owned());
  EXPECT_THROW(lock.release(), weft::RuntimeError);
}

TEST(RLock, OnlyTheOwnerMayRelease) {
  green::RLock lock;
  lock.acquire();
  auto other = green::spawn([&] {
    EXPECT_FALSE(lock.is_owned());
    EXPECT_THROW(lock.release(), weft::RuntimeError);
    EXPECT_FALSE(lock.acquire(false));
    return lock.acquire(true, 10ms);
  });
  EXPECT_FALSE(other.get());
  EXPECT_TRUE(lock.locked());
  lock.release();
}

TEST(RLock, PassesBetweenGreenletsInOrder) {
  green::RLock lock;
  std::vector<int> order;
  lock.acquire();
  std::vector<green::AnyGreenlet> workers;
  for (int i = 0; i < 4; ++i) {
    workers.push_back(green::spawn([&, i] {
      std::scoped_lock outer(lock);
      std::scoped_lock inner(lock);
      order.push_back(i);
      green::sleep();
    }));
  }
  green::sleep();
  lock.release();
  green::joinall(workers);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, AKilledWaiterPassesTheLockOn) {
  green::RLock lock;
  lock.acquire();
  auto doomed = green::spawn([&] { lock.acquire(); });
  auto next = green::spawn([&] {
    std::lock_guard held(lock);
    return lock.is_owned();
  });
  green::sleep();
  lock.release();               // on its way to `doomed`...
  doomed.kill(nullptr, false);  // ...which dies before it owns it
  EXPECT_TRUE(next.get());
  doomed.join();
  EXPECT_FALSE(lock.locked());
}

}  // namespace
