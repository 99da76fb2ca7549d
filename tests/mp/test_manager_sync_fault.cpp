// Processes killed while they hold or wait on a Manager's synchronisation
// objects: the others carry on (Python's manager would hang).
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <future>
#include <string>
#include <thread>

#include "weft/mp/connection.hpp"
#include "weft/mp/managers.hpp"
#include "weft/threading/barrier.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kPatience = 20s;

// Takes `lock`, says so, and waits to be killed.
void hold(mp::AcquirerProxy lock, mp::EventProxy holding, mp::EventProxy never) {
  lock.acquire();
  holding.set();
  never.wait(kPatience);
}

// Waits, using no manager, until told to end.
void outlive(mp::Connection end) { end.poll(3 * kPatience); }

// Takes `lock`, starts a child with fork that outlives it (until `end`
// says), says so, and waits to be killed.
void hold_and_fork(mp::AcquirerProxy lock, mp::EventProxy holding, mp::EventProxy never, mp::Connection end) {
  lock.acquire();
  auto child = mp::get_context("fork").Process(outlive, std::move(end));
  child.start();
  holding.set();
  never.wait(kPatience);
}

void wait_at(mp::BarrierProxy barrier, mp::EventProxy never) {
  barrier.wait();
  never.wait(kPatience);
}

// Kills `child` at scope exit if it still runs (a test that stopped at a
// failed assertion), so that destroying it does not wait for it forever.
struct KillAtExit {
  mp::Process& child;
  ~KillAtExit() {
    if (child.is_alive()) child.kill();
  }
};

class ManagerSyncFault : public ::testing::TestWithParam<const char*> {
 protected:
  mp::Manager manager;
};

TEST_P(ManagerSyncFault, AChildKilledHoldingALockReleasesIt) {
  for (const char* kind : {"Lock", "RLock", "BoundedSemaphore"}) {
    SCOPED_TRACE(kind);
    auto lock = manager.create<mp::AcquirerProxy>(kind);
    auto holding = manager.Event();
    auto never = manager.Event();
    auto child = mp::get_context(GetParam()).Process(hold, lock, holding, never);
    KillAtExit kill_at_exit{child};
    child.start();
    ASSERT_TRUE(holding.wait(kPatience));
    EXPECT_FALSE(lock.acquire(false));
    child.kill();
    ASSERT_TRUE(child.join(kPatience));
    EXPECT_TRUE(lock.acquire(true, kPatience));
    lock.release();
  }
}

TEST_P(ManagerSyncFault, AChildKilledHoldingALockReleasesItThoughAChildOfItsLivesOn) {
  auto lock = manager.Lock();
  auto holding = manager.Event();
  auto never = manager.Event();
  auto [end, ending] = mp::Pipe(false);
  auto child = mp::get_context(GetParam()).Process(hold_and_fork, lock, holding, never, std::move(end));
  KillAtExit kill_at_exit{child};
  // The grandchild ends, however the test does (if it is there still).
  struct EndAtExit {
    mp::Connection& ending;
    ~EndAtExit() {
      try {
        ending.send_bytes("end");
      } catch (const std::exception&) {
      }
    }
  } end_at_exit{ending};
  child.start();
  ASSERT_TRUE(holding.wait(kPatience));
  child.kill();
  ASSERT_TRUE(child.join(kPatience));
  EXPECT_TRUE(lock.acquire(true, kPatience / 2));
}

TEST_P(ManagerSyncFault, AChildKilledAtABarrierBreaksIt) {
  auto barrier = manager.Barrier(3);
  auto never = manager.Event();
  auto child = mp::get_context(GetParam()).Process(wait_at, barrier, never);
  KillAtExit kill_at_exit{child};
  child.start();
  const auto deadline = std::chrono::steady_clock::now() + kPatience;
  while (barrier.n_waiting() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(barrier.n_waiting(), 1u);
  child.kill();
  ASSERT_TRUE(child.join(kPatience));
  EXPECT_THROW(barrier.wait(kPatience), weft::BrokenBarrierError);
}

TEST(ManagerSyncShutdown, WaitsBlockedWhenTheManagerStopsRaiseManagerGoneError) {
  mp::Manager manager;
  auto lock = manager.Lock();
  auto queue = manager.Queue<int>();
  auto event = manager.Event();
  ASSERT_TRUE(lock.acquire());
  // Waits that the shutdown must end long before their own timeout, so
  // that a test stopped at a failed assertion still ends.
  auto acquirer = std::async(std::launch::async, [&] { return lock.acquire(true, 3 * kPatience); });
  auto getter = std::async(std::launch::async, [&] { return queue.get(true, 3 * kPatience); });
  auto waiter = std::async(std::launch::async, [&] { return event.wait(3 * kPatience); });
  manager.shutdown();
  for (auto* blocked : {&acquirer, &waiter}) {
    ASSERT_EQ(blocked->wait_for(kPatience), std::future_status::ready);
    EXPECT_THROW(blocked->get(), mp::ManagerGoneError);
  }
  ASSERT_EQ(getter.wait_for(kPatience), std::future_status::ready);
  EXPECT_THROW(getter.get(), mp::ManagerGoneError);
}

INSTANTIATE_TEST_SUITE_P(StartMethods, ManagerSyncFault, ::testing::Values("fork", "spawn"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
