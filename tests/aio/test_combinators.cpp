// gather, wait, as_completed, wait_for, timeout, TaskGroup and shield: their
// results, their failures, and every way a cancellation goes through them.
#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "aio/co_assert.hpp"
#include "aio/leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

namespace {

using AioCombinators = aio::testing::BackendTest;

aio::Task<int> value_after(int value, std::chrono::milliseconds delay) {
  co_await aio::sleep(delay);
  co_return value;
}

aio::Task<int> fail_after(std::chrono::milliseconds delay, std::string what = "boom") {
  co_await aio::sleep(delay);
  throw std::runtime_error(what);
}

aio::Task<void> nap(std::chrono::milliseconds delay) { co_await aio::sleep(delay); }

}  // namespace

// ---- gather --------------------------------------------------------------------

TEST_P(AioCombinators, GatherVariadicReturnsATupleInArgumentOrder) {
  run([]() -> aio::Task<void> {
    auto [a, b, none] =
        co_await aio::gather(value_after(1, 20ms), aio::create_task(value_after(2, 1ms)), nap(1ms));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    EXPECT_EQ(none, aio::None);
  }());
}

TEST_P(AioCombinators, GatherRangeOfManyTasks) {
  run([]() -> aio::Task<void> {
    std::vector<aio::Task<int>> coros;
    for (int i = 0; i < 10000; ++i) coros.push_back(value_after(i, 0ms));
    std::vector<int> results = co_await aio::gather(std::move(coros));
    CO_ASSERT_TRUE(results.size() == 10000u);
    for (int i = 0; i < 10000; ++i) CO_ASSERT_TRUE(results[i] == i);
  }());
}

TEST_P(AioCombinators, GatherThrowsTheFirstFailureAndLetsTheOthersRun) {
  run([]() -> aio::Task<void> {
    auto slow = aio::create_task(value_after(7, 30ms));
    try {
      co_await aio::gather(fail_after(1ms, "first"), slow, fail_after(10ms, "second"));
      ADD_FAILURE() << "no exception";
    } catch (const std::runtime_error& error) {
      EXPECT_STREQ(error.what(), "first");
    }
    EXPECT_FALSE(slow.done());
    EXPECT_EQ(co_await slow, 7);
  }());
}

TEST_P(AioCombinators, GatherReturnExceptionsCollectsOutcomes) {
  run([]() -> aio::Task<void> {
    auto cancelled = aio::create_task(value_after(0, 10s));
    cancelled.cancel();
    auto [ok, failed, gone] =
        co_await aio::gather(aio::return_exceptions, value_after(3, 1ms), fail_after(1ms), cancelled);
    EXPECT_EQ(ok.value(), 3);
    EXPECT_FALSE(failed.has_value());
    EXPECT_THROW(failed.value(), std::runtime_error);
    EXPECT_THROW(std::rethrow_exception(gone.exception()), aio::CancelledError);
  }());
}

TEST_P(AioCombinators, CancellingTheGathererCancelsEveryChild) {
  run([]() -> aio::Task<void> {
    auto a = aio::create_task(value_after(1, 10s));
    auto b = aio::create_task(value_after(2, 10s));
    auto gatherer = aio::create_task(aio::gather(a, b));
    co_await aio::sleep(1ms);
    gatherer.cancel();
    EXPECT_THROW(co_await gatherer, aio::CancelledError);
    EXPECT_TRUE(a.cancelled());
    EXPECT_TRUE(b.cancelled());
  }());
}

TEST_P(AioCombinators, AChildCancelledMakesGatherRaiseCancelledError) {
  run([]() -> aio::Task<void> {
    auto child = aio::create_task(value_after(1, 10s));
    auto other = aio::create_task(value_after(2, 1ms));
    auto gatherer = aio::create_task(aio::gather(child, other));
    co_await aio::sleep(0ms);
    child.cancel();
    EXPECT_THROW(co_await gatherer, aio::CancelledError);
    EXPECT_EQ(co_await other, 2);
  }());
}

// ---- wait and as_completed --------------------------------------------------------

TEST_P(AioCombinators, WaitFirstCompletedAndAllCompleted) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1ms)),
                                            aio::create_task(value_after(2, 40ms))};
    auto first = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
    CO_ASSERT_TRUE(first.done.size() == 1u);
    EXPECT_EQ(first.done[0].result(), 1);
    CO_ASSERT_TRUE(first.pending.size() == 1u);
    auto all = co_await aio::wait(tasks);
    EXPECT_EQ(all.done.size(), 2u);
    EXPECT_TRUE(all.pending.empty());
  }());
}

TEST_P(AioCombinators, WaitFirstExceptionIgnoresCancelledTasks) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 10s)),
                                            aio::create_task(fail_after(5ms)),
                                            aio::create_task(value_after(3, 10s))};
    tasks[0].cancel();
    auto result = co_await aio::wait(tasks, aio::FIRST_EXCEPTION);
    EXPECT_EQ(result.done.size(), 2u);
    EXPECT_EQ(result.pending.size(), 1u);
    EXPECT_NE(result.done[1].exception(), nullptr);
    tasks[2].cancel();
  }());
}

TEST_P(AioCombinators, WaitTimesOutWithoutCancellingAnything) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 30ms))};
    auto result = co_await aio::wait(tasks, aio::ALL_COMPLETED, 5ms);
    EXPECT_TRUE(result.done.empty());
    CO_ASSERT_TRUE(result.pending.size() == 1u);
    EXPECT_FALSE(tasks[0].cancelled());
    EXPECT_EQ(co_await tasks[0], 1);
  }());
}

TEST_P(AioCombinators, CancellingAWaiterLeavesTheTasksRunning) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(5, 20ms))};
    auto waiter = aio::create_task(aio::wait(tasks));
    co_await aio::sleep(1ms);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_EQ(co_await tasks[0], 5);
  }());
}

TEST_P(AioCombinators, WaitOfNothingIsAValueError) {
  run([]() -> aio::Task<void> {
    EXPECT_THROW(co_await aio::wait(std::vector<aio::TaskRef>{}), weft::ValueError);
  }());
}

TEST_P(AioCombinators, AsCompletedYieldsInFinishingOrder) {
  run([]() -> aio::Task<void> {
    std::vector<aio::Task<int>> coros;
    coros.push_back(value_after(3, 30ms));
    coros.push_back(value_after(1, 1ms));
    coros.push_back(value_after(2, 15ms));
    auto completed = aio::as_completed(std::move(coros));
    std::vector<int> order;
    while (completed) order.push_back(co_await completed.next());
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  }());
}

TEST_P(AioCombinators, AsCompletedTimesOut) {
  run([]() -> aio::Task<void> {
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1ms)),
                                            aio::create_task(value_after(2, 10s))};
    auto completed = aio::as_completed(tasks, 20ms);
    EXPECT_EQ(co_await completed.next(), 1);
    EXPECT_THROW(co_await completed.next(), aio::TimeoutError);
    tasks[1].cancel();
  }());
}

// Python: once the timeout passes, every remaining next() raises TimeoutError; a task that
// finishes after it is not handed out.
TEST_P(AioCombinators, AsCompletedHandsOutNoTaskThatFinishesAfterItsTimeout) {
  run([]() -> aio::Task<void> {
    aio::Event go;
    auto after_go = [](aio::Event& event, int value) -> aio::Task<int> {
      co_await event.wait();
      co_return value;
    };
    std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1ms)),
                                            aio::create_task(after_go(go, 2)),
                                            aio::create_task(after_go(go, 3))};
    auto completed = aio::as_completed(tasks, 20ms);
    EXPECT_EQ(co_await completed.next(), 1);
    EXPECT_THROW(co_await completed.next(), aio::TimeoutError);
    go.set();
    EXPECT_EQ(co_await tasks[1], 2);
    EXPECT_EQ(co_await tasks[2], 3);
    CO_ASSERT_TRUE(completed);
    EXPECT_THROW(co_await completed.next(), aio::TimeoutError);
    EXPECT_FALSE(completed);
  }());
}

// ---- wait_for and timeout ----------------------------------------------------------

TEST_P(AioCombinators, WaitForReturnsInTimeOrRaisesTimeoutError) {
  run([]() -> aio::Task<void> {
    EXPECT_EQ(co_await aio::wait_for(value_after(4, 1ms), 1s), 4);
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(co_await aio::wait_for(value_after(4, 10s), 10ms), aio::TimeoutError);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

// A delay longer than the clock can hold means no limit.
TEST_P(AioCombinators, ATimeoutTooLongForTheClockNeverExpires) {
  run([]() -> aio::Task<void> {
    EXPECT_EQ(co_await aio::wait_for(value_after(1, 5ms), std::chrono::seconds::max()), 1);
    EXPECT_EQ(co_await aio::wait_for(aio::create_task(value_after(2, 5ms)), std::chrono::hours::max()), 2);
    aio::Timeout centuries = aio::timeout(std::chrono::hours(24 * 365 * 300));
    EXPECT_EQ(co_await centuries.run(value_after(3, 5ms)), 3);
    EXPECT_FALSE(centuries.when().has_value());
    aio::Timeout endless = aio::timeout(std::chrono::duration<double>(std::numeric_limits<double>::infinity()));
    EXPECT_EQ(co_await endless.run(value_after(4, 5ms)), 4);
    EXPECT_FALSE(endless.expired());
    std::vector<aio::TaskHandle<int>> tasks;
    tasks.push_back(aio::create_task(value_after(5, 5ms)));
    auto waited = co_await aio::wait(tasks, aio::ALL_COMPLETED, std::chrono::nanoseconds::max());
    EXPECT_EQ(waited.done.size(), 1u);
    tasks.assign(1, aio::create_task(value_after(6, 5ms)));
    auto completed = aio::as_completed(tasks, std::chrono::nanoseconds::max());
    EXPECT_EQ(co_await completed.next(), 6);
  }());
}

TEST_P(AioCombinators, WaitForOnATaskCancelsItAtTheTimeout) {
  run([]() -> aio::Task<void> {
    auto task = aio::create_task(value_after(1, 10s));
    EXPECT_THROW(co_await aio::wait_for(task, 5ms), aio::TimeoutError);
    EXPECT_TRUE(task.cancelled());
  }());
}

TEST_P(AioCombinators, WaitForNeverSwallowsAnOutsideCancel) {
  // The outside cancel arrives in the same batch as the timeout: it must
  // still come out as CancelledError (cpython gh-86296).
  run([]() -> aio::Task<void> {
    auto task = aio::create_task([]() -> aio::Task<int> {
      co_return co_await aio::wait_for(value_after(1, 10s), 10ms);
    }());
    aio::get_running_loop().call_later(10ms, [task]() mutable { task.cancel(); });
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_TRUE(task.cancelled());
  }());
}

TEST_P(AioCombinators, WaitForWhoseBodyCompletesDespiteTheTimeoutReturnsItsValue) {
  run([]() -> aio::Task<void> {
    int value = co_await aio::wait_for(
        []() -> aio::Task<int> {
          try {
            co_await aio::sleep(10s);
          } catch (const aio::CancelledError&) {
            co_return 9;  // swallowed: the timeout then has nothing to convert
          }
          co_return 0;
        }(),
        5ms);
    EXPECT_EQ(value, 9);
  }());
}

TEST_P(AioCombinators, NestedTimeoutsEachReportTheirOwnExpiry) {
  run([]() -> aio::Task<void> {
    aio::Timeout outer = aio::timeout(10s);
    bool inner_expired = false;
    co_await outer.run([](bool& expired) -> aio::Task<void> {
      aio::Timeout inner = aio::timeout(5ms);
      try {
        co_await inner.run(nap(10s));
      } catch (const aio::TimeoutError&) {
        expired = inner.expired();
      }
    }(inner_expired));
    EXPECT_TRUE(inner_expired);
    EXPECT_FALSE(outer.expired());
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST_P(AioCombinators, TheOuterTimeoutWinsWhenBothExpire) {
  run([]() -> aio::Task<void> {
    aio::Timeout outer = aio::timeout(5ms);
    try {
      co_await outer.run([]() -> aio::Task<void> { co_await aio::timeout(5s).run(nap(10s)); }());
      ADD_FAILURE() << "no TimeoutError";
    } catch (const aio::TimeoutError&) {
      EXPECT_TRUE(outer.expired());
    }
  }());
}

TEST_P(AioCombinators, TimeoutCanBeRescheduled) {
  run([]() -> aio::Task<void> {
    aio::Timeout scope = aio::timeout(std::nullopt);
    const auto start = std::chrono::steady_clock::now();
    try {
      co_await scope.run([](aio::Timeout& self) -> aio::Task<void> {
        self.reschedule(aio::get_running_loop().time() + 10ms);
        co_await aio::sleep(10s);
      }(scope));
      ADD_FAILURE() << "no TimeoutError";
    } catch (const aio::TimeoutError&) {
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
    EXPECT_THROW(scope.reschedule(std::nullopt), weft::RuntimeError);
  }());
}

// Python's __aexit__ uncancels on every way out: a body that turns the timeout's cancellation
// into another error leaves no cancellation request behind to confuse an enclosing timeout.
TEST_P(AioCombinators, ATimeoutLeftByAnotherErrorTakesItsCancellationBack) {
  run([]() -> aio::Task<void> {
    try {
      co_await aio::timeout(5ms).run([]() -> aio::Task<void> {
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
          throw std::logic_error("cleanup failed");
        }
      }());
    } catch (const std::logic_error&) {
    }
    EXPECT_EQ(aio::current_task().cancelling(), 0);
    EXPECT_THROW(co_await aio::timeout(5ms).run(nap(10s)), aio::TimeoutError);
  }());
}

// Python 3.12: wait_for with no time left makes the coroutine a task and cancels it before it
// starts.
TEST_P(AioCombinators, WaitForWithNoTimeLeftNeverStartsTheCoroutine) {
  run([]() -> aio::Task<void> {
    int started = 0;
    auto body = [](int& count) -> aio::Task<int> {
      ++count;
      co_return 5;
    };
    EXPECT_THROW(co_await aio::wait_for(body(started), 0ms), aio::TimeoutError);
    EXPECT_THROW(co_await aio::wait_for(body(started), -1ms), aio::TimeoutError);
    EXPECT_EQ(started, 0);
  }());
}

// Python 3.12: wait_for with no time left cancels a task at once and waits for it to end, so a
// task woken in the same batch is cancelled before it runs again; a task already done gives its
// result, and one that catches the cancellation and returns gives that value.
TEST_P(AioCombinators, WaitForWithNoTimeLeftCancelsATaskAtOnce) {
  run([]() -> aio::Task<void> {
    aio::Event main_go;
    aio::Event task_go;
    bool finished = false;
    auto task = aio::create_task([](aio::Event& go, bool& done) -> aio::Task<int> {
      co_await go.wait();
      done = true;
      co_return 5;
    }(task_go, finished));
    co_await aio::sleep(0ms);  // the task waits on task_go
    aio::get_running_loop().call_soon([&main_go, &task_go] {
      main_go.set();  // this task is woken first, the other right after it
      task_go.set();
    });
    co_await main_go.wait();
    EXPECT_THROW(co_await aio::wait_for(task, 0ms), aio::TimeoutError);
    EXPECT_TRUE(task.cancelled());
    EXPECT_FALSE(finished);

    auto done = aio::create_task(value_after(6, 0ms));
    co_await done;
    EXPECT_EQ(co_await aio::wait_for(done, -1ms), 6);

    auto catches = aio::create_task([]() -> aio::Task<int> {
      try {
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
        co_return 9;
      }
      co_return 0;
    }());
    co_await aio::sleep(0ms);
    EXPECT_EQ(co_await aio::wait_for(catches, 0ms), 9);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

// Python 3.12: a Timeout not entered yet cannot be rescheduled.
TEST_P(AioCombinators, ATimeoutNotEnteredCannotBeRescheduled) {
  run([]() -> aio::Task<void> {
    aio::Timeout scope = aio::timeout(10s);
    EXPECT_THROW(scope.reschedule(std::nullopt), weft::RuntimeError);
    EXPECT_EQ(co_await scope.run(value_after(1, 1ms)), 1);
    EXPECT_FALSE(scope.expired());
  }());
}

// A deadline moved into the past expires in the loop's next turn, as Python's call_soon: until
// then the body may move it again.
TEST_P(AioCombinators, ATimeoutMovedIntoThePastMayBeMovedAgainBeforeItFires) {
  run([]() -> aio::Task<void> {
    aio::Timeout scope = aio::timeout(10s);
    co_await scope.run([](aio::Timeout& self) -> aio::Task<void> {
      self.reschedule(aio::get_running_loop().time() - 1ms);
      self.reschedule(aio::get_running_loop().time() + 10s);
      co_await aio::sleep(5ms);
    }(scope));
    EXPECT_FALSE(scope.expired());
  }());
}

TEST_P(AioCombinators, TimeoutAtAPastDeadlineExpiresAtTheFirstSuspension) {
  run([]() -> aio::Task<void> {
    EXPECT_THROW(co_await aio::timeout_at(aio::get_running_loop().time() - 1ms).run(nap(10s)), aio::TimeoutError);
  }());
}

// ---- TaskGroup -------------------------------------------------------------------

TEST_P(AioCombinators, TaskGroupWaitsForEveryTask) {
  run([]() -> aio::Task<void> {
    int total = 0;
    co_await aio::task_group([&total](aio::TaskGroup& tg) -> aio::Task<void> {
      for (int i = 1; i <= 10; ++i) {
        tg.create_task([](int& sum, int v) -> aio::Task<void> {
          co_await aio::sleep(std::chrono::milliseconds(v));
          sum += v;
        }(total, i));
      }
      co_return;
    });
    EXPECT_EQ(total, 55);
  }());
}

TEST_P(AioCombinators, TaskGroupFailureCancelsTheRestAndTheBody) {
  run([]() -> aio::Task<void> {
    aio::TaskHandle<int> sibling;
    bool body_cancelled = false;
    try {
      co_await aio::task_group([&](aio::TaskGroup& tg) -> aio::Task<void> {
        sibling = tg.create_task(value_after(1, 10s));
        tg.create_task(fail_after(1ms, "a"));
        tg.create_task(fail_after(1ms, "b"));
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
          body_cancelled = true;
          throw;
        }
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& group) {
      CO_ASSERT_TRUE(group.exceptions().size() == 2u);
      EXPECT_THROW(std::rethrow_exception(group.exceptions()[0]), std::runtime_error);
    }
    EXPECT_TRUE(body_cancelled);
    EXPECT_TRUE(sibling.cancelled());
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST_P(AioCombinators, TaskGroupBodyErrorIsReportedWithTheTasks) {
  run([]() -> aio::Task<void> {
    try {
      co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<void> {
        tg.create_task(value_after(1, 10s));
        co_await aio::sleep(0ms);
        throw std::logic_error("body");
      });
      ADD_FAILURE() << "no ExceptionGroup";
    } catch (const aio::ExceptionGroup& group) {
      CO_ASSERT_TRUE(group.exceptions().size() == 1u);
      EXPECT_THROW(std::rethrow_exception(group.exceptions()[0]), std::logic_error);
    }
  }());
}

TEST_P(AioCombinators, AnOutsideCancelOfATaskGroupPropagatesAsCancelledError) {
  run([]() -> aio::Task<void> {
    aio::TaskHandle<int> child;
    auto owner = aio::create_task(aio::task_group([&child](aio::TaskGroup& tg) -> aio::Task<void> {
      child = tg.create_task(value_after(1, 10s));
      co_return;
    }));
    co_await aio::sleep(1ms);
    owner.cancel();
    EXPECT_THROW(co_await owner, aio::CancelledError);
    EXPECT_TRUE(child.cancelled());
  }());
}

TEST_P(AioCombinators, ATaskGroupInsideATimeoutBecomesTimeoutError) {
  run([]() -> aio::Task<void> {
    EXPECT_THROW(co_await aio::timeout(5ms).run(aio::task_group([](aio::TaskGroup& tg) -> aio::Task<void> {
      tg.create_task(nap(10s));
      tg.create_task(nap(10s));
      co_return;
    })),
                 aio::TimeoutError);
    EXPECT_EQ(aio::current_task().cancelling(), 0);
  }());
}

TEST_P(AioCombinators, AShuttingDownTaskGroupRefusesNewTasks) {
  run([]() -> aio::Task<void> {
    try {
      co_await aio::task_group([](aio::TaskGroup& tg) -> aio::Task<void> {
        tg.create_task(fail_after(0ms));
        try {
          co_await aio::sleep(10s);
        } catch (const aio::CancelledError&) {
        }
        EXPECT_THROW(tg.create_task(nap(1ms)), weft::RuntimeError);
      });
    } catch (const aio::ExceptionGroup&) {
    }
  }());
}

// ---- shield ---------------------------------------------------------------------

// As in Python, gather retrieves every child's exception and shield a cancelled waiter's task's:
// none is reported as never retrieved.
TEST_P(AioCombinators, GatherAndShieldLeaveNoExceptionUnretrieved) {
  std::vector<std::string> reports;
  {
    aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message);
    });
    loop.run_until_complete([]() -> aio::Task<void> {
      EXPECT_THROW(co_await aio::gather(fail_after(5ms, "a"), fail_after(5ms, "b")), std::runtime_error);
      auto shielding = aio::create_task([]() -> aio::Task<void> { co_await aio::shield(fail_after(20ms)); }());
      co_await aio::sleep(5ms);
      shielding.cancel();
      EXPECT_THROW(co_await shielding, aio::CancelledError);
      co_await aio::sleep(40ms);
    }());
    loop.close();
  }
  EXPECT_TRUE(reports.empty()) << reports.front();
}

TEST_P(AioCombinators, ShieldKeepsTheInnerTaskRunning) {
  run([]() -> aio::Task<void> {
    auto inner = aio::create_task(value_after(8, 20ms));
    auto outer = aio::create_task([](aio::TaskHandle<int> t) -> aio::Task<int> {
      co_return co_await aio::shield(t);
    }(inner));
    co_await aio::sleep(1ms);
    outer.cancel();
    EXPECT_THROW(co_await outer, aio::CancelledError);
    EXPECT_FALSE(inner.cancelled());
    EXPECT_EQ(co_await inner, 8);
  }());
}

TEST_P(AioCombinators, ShieldPassesTheResultAndTheException) {
  run([]() -> aio::Task<void> {
    EXPECT_EQ(co_await aio::shield(value_after(2, 1ms)), 2);
    EXPECT_THROW(co_await aio::shield(fail_after(1ms)), std::runtime_error);
  }());
}

WEFT_AIO_BOTH_BACKENDS(AioCombinators);
