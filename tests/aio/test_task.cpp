// Tasks and their loop: running, results and exceptions, cancellation at
// every kind of suspension, uncancel counts, forgotten tasks, exceptions
// never retrieved, deadlock reports, callbacks and timers — on both IO
// backends.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

namespace {

using AioTask = aio::testing::BackendTest;

aio::Task<int> twice(int x) {
  co_await aio::sleep(0ms);
  co_return 2 * x;
}

aio::Task<int> thrower() {
  co_await aio::sleep(0ms);
  throw std::invalid_argument("bad");
}

aio::Task<void> sleep_for(std::chrono::milliseconds d) { co_await aio::sleep(d); }

}  // namespace

TEST_P(AioTask, InlineAwaitReturnsTheValue) {
  EXPECT_EQ(run([]() -> aio::Task<int> { co_return co_await twice(21); }()), 42);
}

TEST_P(AioTask, ExceptionsKeepTheirType) {
  EXPECT_THROW(run(thrower()), std::invalid_argument);
  EXPECT_THROW(run([]() -> aio::Task<int> { co_return co_await aio::create_task(thrower()); }()),
               std::invalid_argument);
}

// GCC turns symmetric transfer into a tail call only in optimized builds
// without sanitizers; elsewhere each level of inline await takes stack.
#if defined(__OPTIMIZE__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
constexpr int kInlineDepth = 100000;
#else
constexpr int kInlineDepth = 500;
#endif

TEST_P(AioTask, DeepInlineAwaitDoesNotGrowTheStack) {
  struct Deep {
    static aio::Task<int> down(int n) {
      if (n == 0) co_return 0;
      co_return 1 + co_await down(n - 1);
    }
  };
  EXPECT_EQ(run(Deep::down(kInlineDepth)), kInlineDepth);
}

TEST_P(AioTask, CreateTaskRunsConcurrentlyAndHandlesReportState) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task(twice(5), "doubler");
    EXPECT_FALSE(task.done());
    EXPECT_EQ(task.get_name(), "doubler");
    EXPECT_THROW(task.result(), aio::InvalidStateError);
    EXPECT_EQ(co_await task, 10);
    EXPECT_TRUE(task.done());
    EXPECT_FALSE(task.cancelled());
    EXPECT_EQ(task.result(), 10);
    EXPECT_EQ(task.exception(), nullptr);
  }());
}

TEST_P(AioTask, DefaultNamesCount) {
  run([]() -> aio::Task<void> {
    auto a = aio::create_task(twice(1));
    auto b = aio::create_task(twice(1));
    EXPECT_EQ(a.get_name().rfind("Task-", 0), 0u);
    EXPECT_NE(a.get_name(), b.get_name());
    co_await a;
    co_await b;
  }());
}

TEST_P(AioTask, SleepZeroYieldsToOtherTasksInOrder) {
  run([]() -> aio::Task<void> {
    std::vector<int> order;
    auto worker = [&order](int id) -> aio::Task<void> {
      for (int i = 0; i < 3; ++i) {
        order.push_back(id);
        co_await aio::sleep(0ms);
      }
    };
    auto a = aio::create_task(worker(1));
    auto b = aio::create_task(worker(2));
    co_await a;
    co_await b;
    EXPECT_EQ(order, (std::vector<int>{1, 2, 1, 2, 1, 2}));
  }());
}

TEST_P(AioTask, SleepWaitsAtLeastItsDuration) {
  run([]() -> aio::Task<void> {
    const auto start = std::chrono::steady_clock::now();
    co_await aio::sleep(30ms);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
  }());
}

// Python's `pause = asyncio.sleep(d)` does nothing until awaited: the delay
// counts from the await, and a sleep never awaited leaves nothing behind.
TEST_P(AioTask, ASleepMadeBeforeItIsAwaitedCountsFromTheAwait) {
  run([]() -> aio::Task<void> {
    auto pause = aio::sleep(20ms);
    auto never_awaited = aio::sleep(1ms);
    co_await aio::sleep(30ms);
    const auto start = std::chrono::steady_clock::now();
    co_await pause;
    EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
  }());
}

// A delay longer than the clock can hold sleeps until cancelled.
TEST_P(AioTask, ASleepTooLongForTheClockLastsUntilCancelled) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<void>> sleepers;
    sleepers.push_back(aio::create_task([]() -> aio::Task<void> {
      co_await aio::sleep(std::numeric_limits<double>::infinity());
    }()));
    sleepers.push_back(aio::create_task([]() -> aio::Task<void> { co_await aio::sleep(std::chrono::hours::max()); }()));
    sleepers.push_back(aio::create_task([]() -> aio::Task<void> { co_await aio::sleep(1e12); }()));
    sleepers.push_back(aio::create_task([]() -> aio::Task<void> {
      co_await aio::sleep(std::chrono::duration<double>(std::numeric_limits<double>::max()));
    }()));
    co_await aio::sleep(20ms);
    for (auto& sleeper : sleepers) {
      EXPECT_FALSE(sleeper.done());
      sleeper.cancel();
    }
    for (auto& sleeper : sleepers) EXPECT_THROW(co_await sleeper, aio::CancelledError);
    co_await aio::sleep(-std::numeric_limits<double>::infinity());  // a yield, as any negative delay
  }());
}

// Python 3.13: asyncio.sleep(nan) raises ValueError.
TEST_P(AioTask, ASleepOfNaNRaisesValueError) {
  run([]() -> aio::Task<void> {
    EXPECT_THROW(co_await aio::sleep(std::numeric_limits<double>::quiet_NaN()), weft::ValueError);
  }());
}

TEST_P(AioTask, CancelWhileSleepingRaisesCancelledErrorWithTheMessage) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task(sleep_for(10s));
    co_await aio::sleep(0ms);
    EXPECT_TRUE(task.cancel("stop now"));
    EXPECT_EQ(task.cancelling(), 1);
    try {
      co_await task;
      ADD_FAILURE() << "no CancelledError";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(error.message(), "stop now");
    }
    EXPECT_TRUE(task.cancelled());
    EXPECT_FALSE(task.cancel());
    EXPECT_THROW(task.result(), aio::CancelledError);
    EXPECT_THROW(task.exception(), aio::CancelledError);
  }());
}

TEST_P(AioTask, CancelBeforeStartNeverRunsTheBody) {
  run([]() -> aio::Task<void> {
    bool ran = false;
    auto task = aio::create_task([](bool& flag) -> aio::Task<void> {
      flag = true;
      co_return;
    }(ran));
    task.cancel();
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_FALSE(ran);
  }());
}

TEST_P(AioTask, CancelWhileScheduledIsThrownAtTheResume) {
  run([]() -> aio::Task<void> {
    std::vector<std::string> log;
    auto task = aio::create_task([](std::vector<std::string>& out) -> aio::Task<void> {
      out.push_back("before");
      co_await aio::sleep(0ms);  // queued again at once: the cancel finds no waiter
      out.push_back("after");
    }(log));
    co_await aio::sleep(0ms);  // the task runs up to its yield
    task.cancel();
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_EQ(log, std::vector<std::string>{"before"});
  }());
}

TEST_P(AioTask, SelfCancelReachesTheNextSuspension) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task([]() -> aio::Task<int> {
      aio::current_task().cancel();
      int reached = 1;
      try {
        co_await aio::sleep(10s);
        reached = 2;
      } catch (const aio::CancelledError&) {
        reached = 3;
      }
      co_return reached;
    }());
    EXPECT_EQ(co_await task, 3);
    EXPECT_FALSE(task.cancelled());
    EXPECT_EQ(task.cancelling(), 1);
  }());
}

// Python's Task.__step: a task cancelled while it runs that then returns without another
// suspension ends cancelled; one that raises instead ends with its exception.
TEST_P(AioTask, ATaskCancelledWhileItRunsThatReturnsEndsCancelled) {
  run([]() -> aio::Task<void> {
    auto returns = []() -> aio::Task<int> {
      aio::current_task().cancel("from inside");
      co_return 5;
    };
    auto task = aio::create_task(returns());
    try {
      co_await task;
      ADD_FAILURE() << "no CancelledError";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(error.message(), "from inside");
    }
    EXPECT_TRUE(task.cancelled());
    auto gathered = aio::create_task(returns());
    EXPECT_THROW(co_await aio::gather(gathered), aio::CancelledError);
    auto raises = aio::create_task([]() -> aio::Task<int> {
      aio::current_task().cancel();
      throw std::invalid_argument("bad");
      co_return 0;  // makes the lambda a coroutine
    }());
    EXPECT_THROW(co_await raises, std::invalid_argument);
    EXPECT_FALSE(raises.cancelled());
  }());
}

TEST_P(AioTask, CancellingCountsBeyondSixteenBits) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task(sleep_for(10s));
    co_await aio::sleep(0ms);
    for (int i = 0; i < 70000; ++i) task.cancel();
    EXPECT_EQ(task.cancelling(), 70000);
    EXPECT_EQ(task.uncancel(), 69999);
    EXPECT_THROW(co_await task, aio::CancelledError);
  }());
}

TEST_P(AioTask, CancellingATaskThatAwaitsAnotherCancelsBoth) {
  run([]() -> aio::Task<void> {
    auto inner = aio::create_task(sleep_for(10s));
    auto outer = aio::create_task([](aio::TaskHandle<void> awaited) -> aio::Task<void> {
      co_await awaited;
    }(inner));
    co_await aio::sleep(0ms);
    co_await aio::sleep(0ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_TRUE(inner.cancelled());
    EXPECT_TRUE(outer.cancelled());
  }());
}

TEST_P(AioTask, UncancelTakesRequestsBack) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task([]() -> aio::Task<int> {
      for (int i = 0;; ++i) {
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
          if (aio::current_task().uncancel() == 0 && i == 0) continue;
          co_return i;
        }
      }
    }());
    co_await aio::sleep(0ms);
    task.cancel();
    co_await aio::sleep(0ms);
    EXPECT_EQ(task.cancelling(), 0);
    EXPECT_FALSE(task.done());
    task.cancel();
    EXPECT_EQ(co_await task, 1);
  }());
}

TEST_P(AioTask, AWaitEndedByACancellationThrowsEvenIfTheRequestIsTakenBack) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task(sleep_for(10s));
    co_await aio::sleep(0ms);
    task.cancel();
    EXPECT_EQ(task.uncancel(), 0);  // before the task ran again
    EXPECT_THROW(co_await task, aio::CancelledError);
  }());
}

TEST_P(AioTask, ForgottenTasksRunToTheirEnd) {
  run([]() -> aio::Task<void> {
    auto finished = std::make_shared<int>(0);
    for (int i = 0; i < 100; ++i) {
      aio::create_task([](std::shared_ptr<int> count) -> aio::Task<void> {
        co_await aio::sleep(1ms);
        ++*count;
      }(finished));
    }
    while (*finished < 100) co_await aio::sleep(1ms);
    EXPECT_EQ(*finished, 100);
  }());
}

TEST_P(AioTask, AnExceptionNeverRetrievedIsReported) {
  std::vector<std::string> reports;
  {
    aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message);
    });
    loop.run_until_complete([]() -> aio::Task<void> {
      aio::create_task(thrower());  // forgotten
      auto kept = aio::create_task(thrower());
      co_await aio::sleep(5ms);
      EXPECT_TRUE(kept.done());
    }());
  }
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_NE(reports[0].find("never retrieved"), std::string::npos);
}

TEST_P(AioTask, RetrievedExceptionsAreNotReported) {
  int reports = 0;
  aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
  loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext&) { ++reports; });
  loop.run_until_complete([]() -> aio::Task<void> {
    auto task = aio::create_task(thrower());
    EXPECT_THROW(co_await task, std::invalid_argument);
  }());
  EXPECT_EQ(reports, 0);
}

// Python logs "Exception in callback" and goes on, whatever the exception's type: a callback
// that throws a RuntimeError neither stops run_until_complete nor, while the loop closes, the
// program.
TEST_P(AioTask, ACallbackThatThrowsIsReportedAndTheLoopGoesOn) {
  std::vector<std::string> reports;
  {
    aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message);
    });
    const int value = loop.run_until_complete([]() -> aio::Task<int> {
      auto quick = aio::create_task([]() -> aio::Task<void> { co_return; }());
      quick.add_done_callback([](aio::TaskRef&) { throw weft::RuntimeError("from a done callback"); });
      aio::get_running_loop().call_soon([] { throw weft::ValueError("from call_soon"); });
      auto pending = aio::create_task([]() -> aio::Task<void> { co_await aio::sleep(10s); }());
      pending.add_done_callback([](aio::TaskRef&) { throw std::logic_error("while the loop closes"); });
      co_await aio::sleep(5ms);
      co_return 7;
    }());
    EXPECT_EQ(value, 7);
    loop.close();
  }
  EXPECT_EQ(reports.size(), 3u);
}

TEST_P(AioTask, ADeadlockIsReportedNotHung) {
  aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
  auto never = [](aio::TaskHandle<void>* other) -> aio::Task<void> { co_await *other; };
  aio::TaskHandle<void> a;
  aio::TaskHandle<void> b;
  a = loop.create_task(never(&b), "waits-for-b");
  b = loop.create_task(never(&a), "waits-for-a");
  try {
    loop.run_until_complete(a);
    ADD_FAILURE() << "no deadlock report";
  } catch (const weft::RuntimeError& error) {
    EXPECT_NE(std::string(error.what()).find("waits-for-b"), std::string::npos) << error.what();
  }
  a = {};
  b = {};
}

// Python: "Task cannot await on itself", raised in the task at once.
TEST_P(AioTask, ATaskAwaitingItselfRaisesRuntimeError) {
  run([]() -> aio::Task<void> {
    aio::TaskHandle<int> self;
    self = aio::create_task([](aio::TaskHandle<int>& me) -> aio::Task<int> {
      co_await aio::sleep(0ms);
      try {
        co_await me;
      } catch (const weft::RuntimeError& error) {
        EXPECT_STREQ(error.what(), "Task cannot await on itself");
        co_return 1;
      }
      co_return 0;
    }(self));
    EXPECT_EQ(co_await self, 1);
  }());
}

TEST_P(AioTask, CallbacksAndTimersRunOnTheLoop) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<int> order;
    loop.call_later(20ms, [&order] { order.push_back(3); });
    loop.call_soon([&order] { order.push_back(1); });
    auto cancelled = loop.call_later(5ms, [&order] { order.push_back(99); });
    cancelled.cancel();
    loop.call_at(loop.time() + 10ms, [&order] { order.push_back(2); });
    co_await aio::sleep(40ms);
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  }());
}

TEST_P(AioTask, DoneCallbacksSeeTheFinishedTask) {
  run([]() -> aio::Task<void> {
    std::string seen;
    auto task = aio::create_task(twice(4), "cb");
    task.add_done_callback([&seen](aio::TaskRef& done) { seen = done.get_name() + (done.done() ? " done" : ""); });
    co_await task;
    co_await aio::sleep(0ms);
    EXPECT_EQ(seen, "cb done");
    task.add_done_callback([&seen](aio::TaskRef&) { seen = "late"; });
    co_await aio::sleep(0ms);
    EXPECT_EQ(seen, "late");
  }());
}

TEST_P(AioTask, CurrentAndAllTasks) {
  run([]() -> aio::Task<void> {
    EXPECT_TRUE(aio::current_task());
    auto other = aio::create_task(sleep_for(5ms));
    EXPECT_EQ(aio::all_tasks().size(), 2u);
    co_await other;
    EXPECT_EQ(aio::all_tasks().size(), 1u);
    EXPECT_TRUE(aio::all_tasks()[0] == aio::current_task());
  }());
  EXPECT_FALSE(aio::current_task());
}

TEST_P(AioTask, RunCancelsWhatIsLeftAndLetsItClean) {
  auto cleaned = std::make_shared<int>(0);
  run([](std::shared_ptr<int> count) -> aio::Task<void> {
    for (int i = 0; i < 10; ++i) {
      aio::create_task([](std::shared_ptr<int> c) -> aio::Task<void> {
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
          ++*c;
          throw;
        }
      }(count));
    }
    co_await aio::sleep(0ms);
  }(cleaned));
  EXPECT_EQ(*cleaned, 10);
}

// A task created while run's epilogue cancels the others (here by a cancellation handler) is
// cancelled in its turn: run never waits for a task it has not cancelled. Cancelled before its
// first step, the newcomer ends cancelled without running its body, as in Python.
TEST_P(AioTask, RunCancelsTheTasksCreatedWhileItCancels) {
  auto newcomer = std::make_shared<aio::TaskHandle<void>>();
  const auto start = std::chrono::steady_clock::now();
  run([](std::shared_ptr<aio::TaskHandle<void>> newcomer) -> aio::Task<void> {
    aio::create_task([](std::shared_ptr<aio::TaskHandle<void>> newcomer) -> aio::Task<void> {
      try {
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
        *newcomer = aio::create_task([]() -> aio::Task<void> { co_await aio::sleep(20s); }());
        throw;
      }
    }(newcomer));
    co_await aio::sleep(0ms);
  }(newcomer));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_TRUE(*newcomer) << "the first task was never cancelled";
  EXPECT_TRUE(newcomer->cancelled());
}

TEST_P(AioTask, RunnerRunsSeveralCoroutinesOnOneLoop) {
  aio::Runner runner(weft::io::LoopOptions{.backend = GetParam()});
  aio::EventLoop* first = nullptr;
  runner.run([](aio::EventLoop*& loop) -> aio::Task<void> {
    loop = &aio::get_running_loop();
    co_return;
  }(first));
  EXPECT_EQ(runner.run(twice(3)), 6);
  EXPECT_EQ(&runner.get_loop(), first);
  runner.close();
  EXPECT_THROW(runner.get_loop(), weft::RuntimeError);
}

TEST_P(AioTask, NestedRunIsRefused) {
  run([]() -> aio::Task<void> {
    EXPECT_THROW(aio::run(twice(1)), weft::RuntimeError);
    co_return;
  }());
}

TEST_P(AioTask, StopEndsRunForever) {
  aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
  int ticks = 0;
  loop.call_soon([&] { ++ticks; });
  loop.call_later(10ms, [&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(ticks, 1);
  EXPECT_FALSE(loop.is_running());
}

WEFT_AIO_BOTH_BACKENDS(AioTask);
