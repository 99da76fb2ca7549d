// The deadlock detector: seed 001 lock-order cycles, self-deadlock, the four modes, graph reset.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weft/threading.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;
using Kind = weft::DeadlockReport::Kind;

// Puts the detector in a known state for each test, records its reports, and restores it after.
class Deadlock : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_mode_ = weft::deadlock_detection();
    saved_handler_ = weft::set_deadlock_handler([this](const weft::DeadlockReport& report) {
      std::lock_guard held(mutex_);
      reports_.push_back(report);
    });
    weft::reset_deadlock_graph();
    weft::set_deadlock_detection(weft::DeadlockMode::report);
  }
  void TearDown() override {
    weft::set_deadlock_detection(saved_mode_);
    weft::set_deadlock_handler(saved_handler_);
    weft::reset_deadlock_graph();
  }

  std::vector<weft::DeadlockReport> reports() {
    std::lock_guard held(mutex_);
    return reports_;
  }

  // Runs body on a weft thread with the given name and joins it.
  static void on_thread(const std::string& name, std::function<void()> body) {
    weft::Thread t({.name = name}, std::move(body));
    t.start();
    EXPECT_TRUE(t.join(kPatience));
  }

 private:
  weft::DeadlockMode saved_mode_{};
  weft::DeadlockHandler saved_handler_;
  std::mutex mutex_;
  std::vector<weft::DeadlockReport> reports_;
};

// Takes `first` then `second`, then releases both.
template <class A, class B>
void nested(A& first, B& second) {
  first.acquire();
  second.acquire();
  second.release();
  first.release();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether a report's description of a lock (which may add its kind and address) names it.
bool names(const std::string& description, const std::string& lock_name) {
  return contains(description, lock_name);
}

TEST_F(Deadlock, TwoLockCycleAcrossThreadsIsReportedWithLocksAndThreads) {
  weft::Lock a("lock-a");
  weft::Lock b("lock-b");
  on_thread("first", [&] { nested(a, b); });
  EXPECT_TRUE(reports().empty());
  on_thread("second", [&] { nested(b, a); });
  const auto reports = this->reports();
  ASSERT_EQ(reports.size(), 1u);
  const auto& report = reports[0];
  EXPECT_EQ(report.kind, Kind::lock_order_cycle);
  EXPECT_EQ(report.thread, "second");
  ASSERT_EQ(report.cycle.size(), 2u);
  EXPECT_EQ(report.cycle[0].thread, "second");
  EXPECT_PRED2(names, report.cycle[0].held, "lock-b");
  EXPECT_PRED2(names, report.cycle[0].acquired, "lock-a");
  EXPECT_EQ(report.cycle[1].thread, "first");
  EXPECT_PRED2(names, report.cycle[1].held, "lock-a");
  EXPECT_PRED2(names, report.cycle[1].acquired, "lock-b");
  for (const char* part : {"lock-a", "lock-b", "first", "second"})
    EXPECT_TRUE(contains(report.text, part)) << part << " missing from:\n" << report.text;
}

// Seed 001: one thread runs func1 (a then b) and then func2 (b then a). It never hangs on its
// own, but the order is a deadlock waiting for a second thread; it is reported at once.
TEST_F(Deadlock, SeedOneSequentialOrderInOneThreadIsReported) {
  weft::Lock a("a");
  weft::Lock b("b");
  on_thread("MyThread-1", [&] {
    nested(a, b);
    nested(b, a);
  });
  const auto reports = this->reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, Kind::lock_order_cycle);
  EXPECT_EQ(reports[0].thread, "MyThread-1");
  ASSERT_EQ(reports[0].cycle.size(), 2u);
  for (const auto& edge : reports[0].cycle) EXPECT_EQ(edge.thread, "MyThread-1");
  EXPECT_TRUE(contains(reports[0].text, "MyThread-1")) << reports[0].text;
}

TEST_F(Deadlock, ThreeLockCycleIsReported) {
  weft::Lock a("alpha");
  weft::Lock b("beta");
  weft::Lock c("gamma");
  on_thread("t1", [&] { nested(a, b); });
  on_thread("t2", [&] { nested(b, c); });
  EXPECT_TRUE(reports().empty());
  on_thread("t3", [&] { nested(c, a); });
  const auto reports = this->reports();
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_EQ(reports[0].cycle.size(), 3u);
  EXPECT_EQ(reports[0].cycle[0].thread, "t3");
  EXPECT_PRED2(names, reports[0].cycle[0].held, "gamma");
  EXPECT_PRED2(names, reports[0].cycle[0].acquired, "alpha");
}

TEST_F(Deadlock, EachDistinctCycleIsReportedOnce) {
  weft::Lock a("a");
  weft::Lock b("b");
  nested(a, b);
  nested(b, a);
  nested(b, a);
  nested(a, b);
  EXPECT_EQ(reports().size(), 1u);
}

TEST_F(Deadlock, RLocksTakePartInCycles) {
  weft::RLock a("rlock-a");
  weft::RLock b("rlock-b");
  nested(a, b);
  nested(b, a);
  const auto reports = this->reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].thread, "MainThread");
}

// Reported before the thread blocks; here another thread then releases the Lock for it (a
// hand-off Python allows), so the acquisition goes through.
TEST_F(Deadlock, SelfDeadlockOnALockIsReported) {
  weft::Lock lock("self");
  lock.acquire();
  SleepProbe probe;
  weft::Thread releaser([&] {
    EXPECT_TRUE(probe.wait_asleep());
    lock.release();
  });
  releaser.start();
  probe.arm();  // from here this thread's first sleep is in the acquisition
  lock.acquire();
  EXPECT_TRUE(releaser.join(kPatience));
  lock.release();
  const auto reports = this->reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].kind, Kind::self_deadlock);
  EXPECT_EQ(reports[0].thread, "MainThread");
  EXPECT_TRUE(contains(reports[0].text, "self")) << reports[0].text;
}

// A timed wait for a Lock one holds ends in its timeout: no deadlock, even under raise.
TEST_F(Deadlock, ATimedReacquisitionIsNotASelfDeadlock) {
  weft::set_deadlock_detection(weft::DeadlockMode::raise);
  weft::Lock lock("timed");
  lock.acquire();
  EXPECT_FALSE(lock.acquire(kTick));
  lock.release();
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, RLockReentryIsNotASelfDeadlock) {
  weft::RLock lock("re");
  weft::Lock inner("inner");
  lock.acquire();
  lock.acquire();
  inner.acquire();
  lock.acquire();
  lock.release();
  inner.release();
  lock.release();
  lock.release();
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, ConsistentOrderingIsNeverReported) {
  weft::Lock a("a");
  weft::Lock b("b");
  weft::Lock c("c");
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 4; ++i) {
    threads.push_back(std::make_unique<weft::Thread>([&] {
      for (int k = 0; k < 50; ++k) {
        std::scoped_lock ordered(a);
        nested(b, c);
        c.acquire();
        c.release();
      }
      nested(a, c);
    }));
    threads.back()->start();
  }
  for (auto& t : threads) EXPECT_TRUE(t->join(kPatience));
  nested(b, c);
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, NonBlockingTryIsNotChecked) {
  weft::Lock a("a");
  weft::Lock b("b");
  nested(a, b);
  b.acquire();
  EXPECT_TRUE(a.acquire(false));
  a.release();
  b.release();
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, ResetGraphForgetsLearntOrders) {
  weft::Lock a("a");
  weft::Lock b("b");
  nested(a, b);
  weft::reset_deadlock_graph();
  nested(b, a);
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, DestroyedLocksLeaveTheGraph) {
  for (int round = 0; round < 2; ++round) {
    weft::Lock x("x");
    weft::Lock y("y");
    if (round == 0) nested(x, y); else nested(y, x);
  }
  EXPECT_TRUE(reports().empty());
}

// A Lock has no owner: once another thread releases it, its acquirer no longer holds it, so
// locks that acquirer takes later are not ordered after it.
TEST_F(Deadlock, ALockReleasedByAnotherThreadIsNoLongerHeld) {
  weft::Lock signal("signal");
  weft::Lock other("other");
  signal.acquire();
  on_other_thread([&] { signal.release(); });
  other.acquire();
  other.release();
  other.acquire();
  EXPECT_TRUE(signal.acquire(kPatience));
  signal.release();
  other.release();
  EXPECT_TRUE(reports().empty());
}

// Takes its locks, nested, from its destructor.
struct NestsAtExit {
  weft::Lock* first = nullptr;
  weft::Lock* second = nullptr;
  ~NestsAtExit() {
    if (first != nullptr) nested(*first, *second);
  }
};

// A local<T> value a foreign thread touched before its first tracked acquisition is destroyed
// after that thread's record of held locks; the locks it takes then work, untracked.
TEST_F(Deadlock, LocksTakenAfterAForeignThreadsRecordIsGoneStillWork) {
  weft::Lock a("a");
  weft::Lock b("b");
  weft::local<NestsAtExit> nests;
  std::thread foreign([&] {
    nests.get().first = &a;
    nests.get().second = &b;
    nested(a, b);
  });
  foreign.join();
  EXPECT_FALSE(a.locked());
  EXPECT_FALSE(b.locked());
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, ModeCanBeReadBack) {
  for (auto mode : {weft::DeadlockMode::off, weft::DeadlockMode::raise,
                    weft::DeadlockMode::report, weft::DeadlockMode::abort}) {
    weft::set_deadlock_detection(mode);
    EXPECT_EQ(weft::deadlock_detection(), mode);
  }
  weft::set_deadlock_detection(weft::DeadlockMode::report);
}

TEST_F(Deadlock, OffModeReportsNothing) {
  weft::set_deadlock_detection(weft::DeadlockMode::off);
  weft::Lock a("a");
  weft::Lock b("b");
  nested(a, b);
  nested(b, a);
  a.acquire();
  EXPECT_FALSE(a.acquire(kTick));
  a.release();
  EXPECT_TRUE(reports().empty());
}

TEST_F(Deadlock, RaiseModeThrowsAndDoesNotAcquire) {
  weft::set_deadlock_detection(weft::DeadlockMode::raise);
  weft::Lock a("lock-a");
  weft::Lock b("lock-b");
  nested(a, b);
  b.acquire();
  try {
    a.acquire();
    ADD_FAILURE() << "acquire closed a cycle without throwing";
    a.release();
  } catch (const weft::DeadlockError& e) {
    EXPECT_TRUE(contains(e.what(), "lock-a")) << e.what();
    EXPECT_TRUE(contains(e.what(), "lock-b")) << e.what();
  }
  EXPECT_FALSE(a.locked());
  EXPECT_THROW(a.acquire(kTick), weft::DeadlockError);
  EXPECT_FALSE(a.locked());
  b.release();
  EXPECT_EQ(reports().size(), 1u);
  nested(a, b);
}

TEST_F(Deadlock, RaiseModeThrowsOnSelfDeadlock) {
  weft::set_deadlock_detection(weft::DeadlockMode::raise);
  weft::Lock lock("self");
  lock.acquire();
  EXPECT_THROW(lock.acquire(), weft::DeadlockError);
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
  ASSERT_EQ(reports().size(), 1u);
  EXPECT_EQ(reports()[0].kind, Kind::self_deadlock);
}

TEST_F(Deadlock, DefaultHandlerPrintsTheReportToStandardError) {
  weft::set_deadlock_handler({});
  weft::Lock a("printed-a");
  weft::Lock b("printed-b");
  testing::internal::CaptureStderr();
  nested(a, b);
  nested(b, a);
  const std::string text = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(text, "printed-a")) << text;
  EXPECT_TRUE(contains(text, "printed-b")) << text;
  EXPECT_TRUE(contains(text, "MainThread")) << text;
}

TEST_F(Deadlock, SetHandlerReturnsThePreviousOne) {
  int calls = 0;
  weft::set_deadlock_handler([&](const weft::DeadlockReport&) { ++calls; });
  const weft::DeadlockHandler previous = weft::set_deadlock_handler([](const auto&) {});
  ASSERT_TRUE(previous);
  previous(weft::DeadlockReport{});
  EXPECT_EQ(calls, 1);
}

using DeadlockDeathTest = Deadlock;

TEST_F(DeadlockDeathTest, AbortModeReportsThenAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        weft::set_deadlock_handler({});
        weft::set_deadlock_detection(weft::DeadlockMode::abort);
        weft::Lock a("doomed-a");
        weft::Lock b("doomed-b");
        nested(a, b);
        nested(b, a);
      },
      "doomed-a");
}

// A fork handler registered before weft's (by a constructor that runs
// before weft's load-time ones) runs after the detector has taken its
// mutex for the fork: the Lock it takes then is not tracked, instead of
// waiting forever for that mutex.
std::atomic<weft::Lock*> g_lock_taken_at_fork{nullptr};

[[gnu::constructor(101)]] void register_fork_handlers_before_weft() {
  const auto release = [] {
    if (weft::Lock* lock = g_lock_taken_at_fork.load()) lock->release();
  };
  ::pthread_atfork(
      [] {
        if (weft::Lock* lock = g_lock_taken_at_fork.load()) lock->acquire();
      },
      release, release);
}

TEST_F(Deadlock, AForkHandlerRegisteredBeforeWeftMayTakeALock) {
  weft::Lock lock;
  const pid_t pid = ::fork();  // the handlers are not armed for this one
  if (pid == 0) {
    g_lock_taken_at_fork = &lock;
    const pid_t inner = ::fork();
    if (inner == 0) ::_exit(lock.acquire(false) ? 0 : 3);
    int status = 0;
    ::waitpid(inner, &status, 0);
    ::_exit(WIFEXITED(status) && WEXITSTATUS(status) == 0 && lock.acquire(false) ? 0 : 4);
  }
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; })) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    FAIL() << "a fork whose handler takes a weft::Lock hung";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}


}  // namespace
