// gevent's Timeout and with_timeout; sleep and idle.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>

#include "weft/errors.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/timeout.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

TEST(Timeout, RaisesAtTheBlockingPointWithinItsScope) {
  const auto start = Clock::now();
  bool caught_ours = false;
  {
    green::Timeout limit(0.05s);
    EXPECT_TRUE(limit.pending());
    try {
      green::sleep(10s);
      ADD_FAILURE() << "sleep was not interrupted";
    } catch (const green::Timeout& t) {
      caught_ours = t == limit;
      EXPECT_STREQ(t.what(), "0.05 seconds");
    }
    EXPECT_FALSE(limit.pending());
  }
  EXPECT_TRUE(caught_ours);
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 50ms);
  EXPECT_LT(took, 5s);
}

TEST(Timeout, CancelledOnScopeExitAndNeverFiresLater) {
  {
    green::Timeout limit(0.02s);
    green::sleep(0.001s);
  }
  EXPECT_NO_THROW(green::sleep(0.06s));
  green::Timeout cancelled(0.02s);
  cancelled.cancel();
  EXPECT_FALSE(cancelled.pending());
  EXPECT_NO_THROW(green::sleep(0.06s));
}

TEST(Timeout, ExpiredWhileBusyRaisesAtTheNextBlockingPoint) {
  green::Timeout limit(0.01s);
  const auto until = Clock::now() + 30ms;
  while (Clock::now() < until) {
  }
  // The hub has not run: nothing raised yet.
  EXPECT_TRUE(limit.pending());
  EXPECT_THROW(green::sleep(0.001s), green::Timeout);
}

TEST(Timeout, ExpiredThenCancelledRaisesNothing) {
  auto other = green::spawn([] {
    const auto until = Clock::now() + 30ms;
    while (Clock::now() < until) {
    }
  });
  green::Timeout limit(0.01s);
  // `other` busy-waits past the limit, so it expires while main is queued.
  green::sleep();
  limit.cancel();
  EXPECT_NO_THROW(green::sleep());
  other.join();
}

// Busy for `busy` (past a Timeout's expiry), then yields: the loop turn that follows fires the
// expired timers, so a greenlet they interrupt is queued behind this one.
void expire_while_ahead(std::chrono::milliseconds busy) {
  const auto until = Clock::now() + busy;
  while (Clock::now() < until) {
  }
  green::sleep();
}

// A parked greenlet's Timeout expires, and another greenlet cancels it before the first runs,
// setting the Event the first waits on before or after the cancel; the first must not raise.
void expire_park_then_cancel(bool set_before_cancel) {
  green::Event go;
  green::Timeout* limit = nullptr;
  auto waiter = green::spawn([&] {
    green::Timeout own(0.01s);
    limit = &own;
    go.wait();
    limit = nullptr;
  });
  auto canceller = green::spawn([&] {
    expire_while_ahead(30ms);
    ASSERT_NE(limit, nullptr);
    if (set_before_cancel) go.set();
    limit->cancel();
    if (!set_before_cancel) go.set();
  });
  EXPECT_NO_THROW(waiter.get());
  canceller.join();
}

// Cancelled before its wait ends: it goes on waiting as if the Timeout had never expired.
TEST(Timeout, ExpiredWhileParkedThenCancelledRaisesNothing) { expire_park_then_cancel(false); }

// Its wait ends before the cancel: it resumes with that wake.
TEST(Timeout, ExpiredWhileParkedThenWokenAndCancelledTakesTheWake) { expire_park_then_cancel(true); }

// Two expire while their greenlet is parked; cancelling the one that came first leaves the
// other to raise.
TEST(Timeout, ACancelledExpiryGivesWayToTheNextOne) {
  green::Timeout* first = nullptr;
  auto waiter = green::spawn([&] {
    green::Timeout outer(0.01s);
    first = &outer;
    try {
      green::Timeout inner(0.015s);
      green::sleep(5s);
    } catch (const green::Timeout& t) {
      return t != outer;
    }
    return false;
  });
  auto canceller = green::spawn([&] {
    expire_while_ahead(30ms);
    ASSERT_NE(first, nullptr);
    first->cancel();
  });
  EXPECT_TRUE(waiter.get()) << "the inner Timeout's expiry was lost";
  canceller.join();
}

TEST(Timeout, CustomExceptionIsRaisedInstead) {
  green::Timeout limit(0.01s, std::make_exception_ptr(std::runtime_error("too slow")));
  try {
    green::sleep(10s);
    ADD_FAILURE() << "sleep was not interrupted";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "too slow");
  }
}

TEST(Timeout, ANaNDurationIsValueErrorForTimeoutAndSleep) {
  const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THROW(green::Timeout limit(nan), weft::ValueError);
  EXPECT_THROW(green::sleep(nan), weft::ValueError);
}

TEST(Timeout, InterruptsASpawnedGreenletsWait) {
  auto g = green::spawn([] {
    green::Timeout limit(0.02s);
    try {
      green::Hub::current().park("a wake that never comes");
    } catch (const green::Timeout& t) {
      return t == limit;
    }
    return false;
  });
  EXPECT_TRUE(g.get());
}

TEST(Timeout, NestedTimeoutsTellTheirsApart) {
  green::Timeout outer(0.02s);
  try {
    green::Timeout inner(10s);
    green::sleep(10s);
  } catch (const green::Timeout& t) {
    EXPECT_TRUE(t == outer);
  }
}

// Both expire while the greenlet waits its turn after sleep(0): leaving the inner scope
// withdraws only the inner one's expiry, and the outer one still raises.
TEST(Timeout, NestedTimeoutsExpiredWhileQueuedEachStand) {
  auto g = green::spawn([] {
    green::Timeout outer(0.01s);
    try {
      {
        green::Timeout inner(0.02s);
        const auto until = Clock::now() + 40ms;
        while (Clock::now() < until) {
        }
        green::sleep();  // the hub's loop runs, and both timers fire while this waits to resume
      }
      green::sleep(10s);
    } catch (const green::Timeout& t) {
      return t == outer;
    }
    return false;
  });
  EXPECT_TRUE(g.get()) << "the outer Timeout's expiry was lost";
}

// The same, the other way round: the inner one raises first, inside its own scope, and the
// outer one at the next blocking point after it.
TEST(Timeout, NestedTimeoutsExpiredWhileQueuedRaiseInTurn) {
  green::Timeout outer(0.02s);
  bool inner_raised = false;
  bool outer_raised = false;
  try {
    try {
      green::Timeout inner(0.01s);
      const auto until = Clock::now() + 40ms;
      while (Clock::now() < until) {
      }
      green::sleep();
      green::sleep(10s);
    } catch (const green::Timeout& t) {
      inner_raised = t != outer;
    }
    green::sleep(10s);
    ADD_FAILURE() << "the outer Timeout's expiry was lost";
  } catch (const green::Timeout& t) {
    outer_raised = t == outer;
  }
  EXPECT_TRUE(inner_raised);
  EXPECT_TRUE(outer_raised);
}

TEST(Timeout, NoSecondsNeverExpires) {
  green::Timeout never(std::nullopt);
  EXPECT_FALSE(never.pending());
  EXPECT_NO_THROW(green::sleep(0.01s));
  EXPECT_STREQ(green::Timeout(1s).what(), "1 second");
  EXPECT_STREQ(green::Timeout(2s).what(), "2 seconds");
}

TEST(Timeout, WithTimeout) {
  EXPECT_EQ(green::with_timeout(1s, [](int x) { return x + 1; }, 1), 2);
  EXPECT_THROW(green::with_timeout(0.01s, [] { green::sleep(10s); }), green::Timeout);
  EXPECT_EQ(green::with_timeout_or(0.01s, -1,
                                   [] {
                                     green::sleep(10s);
                                     return 1;
                                   }),
            -1);
  EXPECT_EQ(green::with_timeout_or(1s, -1, [] { return 1; }), 1);
}

TEST(Timeout, KillBlockWithTimeout) {
  auto stubborn = green::spawn([] {
    try {
      green::sleep(10s);
    } catch (const green::GreenletExit&) {
      green::Hub::current().park("ignoring the kill");
    }
  });
  green::sleep();
  stubborn.kill(nullptr, true, 0.02s);
  EXPECT_FALSE(stubborn.ready());
  stubborn.kill(nullptr, true, 5s);
  EXPECT_TRUE(stubborn.ready());
}

TEST(Sleep, SleepsAtLeastTheTime) {
  const auto start = Clock::now();
  green::sleep(0.03s);
  EXPECT_GE(Clock::now() - start, 30ms);
}

TEST(Sleep, IdleWaitsUntilNothingElseIsReady) {
  int spins = 0;
  auto busy = green::spawn([&] {
    for (int i = 0; i < 5; ++i) {
      ++spins;
      green::sleep();
    }
  });
  green::idle();
  EXPECT_EQ(spins, 5);
  busy.join();
}

}  // namespace
