// The proxies of a Manager's synchronisation objects and queues, used from
// the process that made it: every method, and errors crossing with their
// types.
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "weft/mp/managers.hpp"
#include "weft/queue/errors.hpp"
#include "weft/threading/barrier.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;

class ManagerSyncProxies : public ::testing::Test {
 protected:
  mp::Manager manager;
};

TEST_F(ManagerSyncProxies, LocksWorkWithTheStandardGuards) {
  auto lock = manager.Lock();
  {
    std::unique_lock guard(lock);
    EXPECT_TRUE(lock.locked());
    EXPECT_FALSE(lock.try_lock());
    EXPECT_FALSE(lock.acquire(true, 10ms));
    EXPECT_FALSE(lock.try_lock_for(-1ms));
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(lock.release(), weft::RuntimeError);
  EXPECT_THROW(lock.acquire(false, 1s), weft::ValueError);
  EXPECT_TRUE(lock.try_lock_for(1s));
  EXPECT_FALSE(lock.try_lock_until(std::chrono::steady_clock::now() + 10ms));
  lock.unlock();
  std::unique_lock timed(lock, 1s);
  EXPECT_TRUE(timed.owns_lock());
}

TEST_F(ManagerSyncProxies, AnRLockBelongsToTheThreadThatTookIt) {
  auto rlock = manager.RLock();
  ASSERT_TRUE(rlock.acquire());
  ASSERT_TRUE(rlock.acquire());
  std::thread other([&] {
    EXPECT_FALSE(rlock.acquire(false));
    EXPECT_THROW(rlock.release(), weft::RuntimeError);
  });
  other.join();
  rlock.release();
  rlock.release();
  EXPECT_FALSE(rlock.locked());
}

TEST_F(ManagerSyncProxies, SemaphoresCountAndBoundedOnesRefuseToOverflow) {
  auto semaphore = manager.Semaphore(2);
  EXPECT_TRUE(semaphore.acquire());
  EXPECT_TRUE(semaphore.acquire(1s));
  EXPECT_FALSE(semaphore.acquire(false));
  semaphore.release();
  semaphore.release();
  semaphore.release();  // a plain Semaphore may go above its initial value
  auto bounded = manager.BoundedSemaphore(1);
  EXPECT_THROW(bounded.release(), weft::ValueError);
  EXPECT_THROW(bounded.locked(), weft::AttributeError);
}

TEST_F(ManagerSyncProxies, EventWaitTimesOutAndWakes) {
  auto event = manager.Event();
  EXPECT_FALSE(event.wait(20ms));
  std::thread setter([&] { event.set(); });
  EXPECT_TRUE(event.wait(20s));
  setter.join();
  EXPECT_TRUE(event.is_set());
  event.clear();
  EXPECT_FALSE(event.is_set());
  EXPECT_FALSE(event.wait(-1s)) << "a negative timeout counts as 0, as in Python";
}

TEST_F(ManagerSyncProxies, ConditionWaitForReturnsThePredicatesLastValue) {
  auto condition = manager.Condition();
  std::unique_lock guard(condition);
  EXPECT_FALSE(condition.wait_for([] { return false; }, 30ms));
  EXPECT_EQ(condition.wait_for([] { return 7; }), 7);
  EXPECT_FALSE(condition.wait(10ms));
  condition.notify();
  condition.notify_all();
  guard.unlock();
  EXPECT_THROW(condition.notify(), weft::RuntimeError);
  EXPECT_THROW(condition.wait(10ms), weft::RuntimeError);
}

TEST_F(ManagerSyncProxies, ConditionWakesAnotherThread) {
  auto condition = manager.Condition();
  auto flag = manager.Value<int>(0);
  std::thread waiter([&] {
    std::unique_lock guard(condition);
    EXPECT_TRUE(condition.wait_for([&] { return flag.get() == 1; }, 20s));
  });
  {
    std::lock_guard guard(condition);
    flag.set(1);
    condition.notify_all();
  }
  waiter.join();
}

TEST_F(ManagerSyncProxies, BarrierErrorsCrossWithTheirType) {
  auto barrier = manager.Barrier(2);
  EXPECT_EQ(barrier.parties(), 2u);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_THROW(barrier.wait(20ms), weft::BrokenBarrierError);
  EXPECT_TRUE(barrier.broken());
  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  barrier.abort();
  EXPECT_THROW(barrier.wait(), weft::BrokenBarrierError);
  EXPECT_THROW(manager.Barrier(0), weft::ValueError);
}

TEST_F(ManagerSyncProxies, QueueFormsAndErrors) {
  auto queue = manager.Queue<std::string>(2);
  EXPECT_EQ(queue.maxsize(), 2u);
  EXPECT_TRUE(queue.empty());
  queue.put("a");
  queue.put_nowait("b");
  EXPECT_TRUE(queue.full());
  EXPECT_EQ(queue.qsize(), 2u);
  EXPECT_THROW(queue.put("c", false), weft::Full);
  EXPECT_THROW(queue.put("c", 10ms), weft::Full);
  EXPECT_FALSE(queue.try_put("c"));
  EXPECT_FALSE(queue.try_put("c", 10ms));
  EXPECT_EQ(queue.get(), "a");
  EXPECT_EQ(queue.get_nowait(), "b");
  EXPECT_THROW(queue.get_nowait(), weft::Empty);
  EXPECT_THROW(queue.get(10ms), weft::Empty);
  EXPECT_EQ(queue.try_get(), std::nullopt);
  EXPECT_EQ(queue.try_get(10ms), std::nullopt);
  EXPECT_TRUE(queue.try_put("d", 1s));
  EXPECT_EQ(queue.try_get(1s), "d");
  EXPECT_THROW(queue.get(true, -1s), weft::ValueError);
}

TEST_F(ManagerSyncProxies, JoinableQueueTracksTasksAndShutsDown) {
  auto queue = manager.JoinableQueue<std::vector<int>>();
  queue.put({1, 2});
  EXPECT_FALSE(queue.join(10ms));
  EXPECT_EQ(queue.get(), (std::vector<int>{1, 2}));
  queue.task_done();
  queue.join();
  EXPECT_THROW(queue.task_done(), weft::ValueError);
  queue.shutdown();
  EXPECT_THROW(queue.put({3}), weft::ShutDown);
  EXPECT_THROW(queue.get(), weft::ShutDown);
}

TEST_F(ManagerSyncProxies, AnItemOfAnotherTypeIsADecodeError) {
  auto strings = manager.Queue<std::string>();
  strings.put("not a number");
  mp::QueueProxy<int> numbers(strings);
  EXPECT_THROW(numbers.get(), weft::codec::DecodeError);
}

}  // namespace
