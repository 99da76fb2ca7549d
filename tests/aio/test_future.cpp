// aio::Future<T>: its outcome and state errors, awaiting it from tasks,
// cancellation both ways, done callbacks, another loop, another thread, and
// the combinators that take futures — on both IO backends.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "aio/co_assert.hpp"
#include "aio/leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

namespace {

using AioFuture = aio::testing::BackendTest;

aio::Task<int> await_value(aio::Future<int> future) { co_return co_await future; }

// Sets `started` once it awaits `future` (the setter runs in the same step
// as the suspension, so whoever awaits `started` finds it suspended there).
aio::Task<int> await_after(aio::Future<void> started, aio::Future<int> future) {
  started.set_result();
  co_return co_await future;
}

std::string message_of(const aio::CancelledError& error) { return error.message(); }

}  // namespace

// ---- outcome and state ----------------------------------------------------------

TEST_P(AioFuture, APendingFutureHasNoResultYet) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> future = loop.create_future<int>();
    EXPECT_FALSE(future.done());
    EXPECT_FALSE(future.cancelled());
    EXPECT_EQ(&future.get_loop(), &loop);
    EXPECT_THROW(future.result(), aio::InvalidStateError);
    EXPECT_THROW(future.exception(), aio::InvalidStateError);
    aio::Future<int> constructed(loop);
    EXPECT_FALSE(constructed == future);
    aio::Future<int> copy = future;
    EXPECT_TRUE(copy == future);
    co_return;
  }());
}

TEST_P(AioFuture, SetResultMakesItDoneOnceForAll) {
  run([]() -> aio::Task<void> {
    aio::Future<std::string> future = aio::get_running_loop().create_future<std::string>();
    aio::Future<std::string> other = future;
    future.set_result("value");
    EXPECT_TRUE(other.done());
    EXPECT_FALSE(other.cancelled());
    EXPECT_EQ(other.result(), "value");
    EXPECT_EQ(other.exception(), nullptr);
    try {
      future.set_result("again");
      ADD_FAILURE() << "set_result of a done future did not throw";
    } catch (const aio::InvalidStateError& error) {
      EXPECT_STREQ(error.what(), "invalid state");
    }
    EXPECT_THROW(future.set_exception(std::runtime_error("late")), aio::InvalidStateError);
    EXPECT_FALSE(future.cancel());
    EXPECT_EQ(future.result(), "value");
    co_return;
  }());
}

TEST_P(AioFuture, SetExceptionIsRethrownWithItsType) {
  run([]() -> aio::Task<void> {
    aio::Future<int> future = aio::get_running_loop().create_future<int>();
    EXPECT_THROW(future.set_exception(std::exception_ptr()), weft::TypeError);
    EXPECT_FALSE(future.done());
    future.set_exception(std::invalid_argument("bad"));
    EXPECT_TRUE(future.done());
    EXPECT_FALSE(future.cancelled());
    EXPECT_THROW(future.result(), std::invalid_argument);
    std::exception_ptr error = future.exception();
    EXPECT_THROW(std::rethrow_exception(error), std::invalid_argument);
    EXPECT_THROW(future.set_result(1), aio::InvalidStateError);
    EXPECT_THROW(future.set_exception(std::make_exception_ptr(std::runtime_error("x"))), aio::InvalidStateError);
    co_return;
  }());
}

TEST_P(AioFuture, CancelMakesResultAndExceptionThrowCancelledErrorWithTheMessage) {
  run([]() -> aio::Task<void> {
    aio::Future<int> future = aio::get_running_loop().create_future<int>();
    EXPECT_TRUE(future.cancel("no longer needed"));
    EXPECT_TRUE(future.done());
    EXPECT_TRUE(future.cancelled());
    EXPECT_FALSE(future.cancel("twice"));
    try {
      future.result();
      ADD_FAILURE() << "result() of a cancelled future did not throw";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(message_of(error), "no longer needed");
    }
    EXPECT_THROW(future.exception(), aio::CancelledError);
    EXPECT_THROW(future.set_result(1), aio::InvalidStateError);
    co_return;
  }());
}

// ---- awaiting -----------------------------------------------------------------

TEST_P(AioFuture, AwaitingSuspendsUntilACallbackSetsTheResult) {
  EXPECT_EQ(run([]() -> aio::Task<int> {
              aio::EventLoop& loop = aio::get_running_loop();
              aio::Future<int> future = loop.create_future<int>();
              loop.call_soon([future]() mutable { future.set_result(42); });
              EXPECT_FALSE(future.done());
              co_return co_await future;
            }()),
            42);
}

TEST_P(AioFuture, AwaitingADoneFutureReturnsAtOnceAndMovingMovesTheValueOut) {
  run([]() -> aio::Task<void> {
    aio::Future<std::unique_ptr<int>> future = aio::get_running_loop().create_future<std::unique_ptr<int>>();
    future.set_result(std::make_unique<int>(7));
    std::unique_ptr<int> value = co_await std::move(future);
    CO_ASSERT_TRUE(value != nullptr);
    EXPECT_EQ(*value, 7);
  }());
}

TEST_P(AioFuture, AwaitingThrowsTheFuturesException) {
  EXPECT_THROW(run([]() -> aio::Task<int> {
                 aio::EventLoop& loop = aio::get_running_loop();
                 aio::Future<int> future = loop.create_future<int>();
                 loop.call_soon([future]() mutable { future.set_exception(std::out_of_range("range")); });
                 co_return co_await future;
               }()),
               std::out_of_range);
}

TEST_P(AioFuture, FutureOfVoid) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<> future = loop.create_future();
    static_assert(std::is_same_v<decltype(future), aio::Future<void>>);
    loop.call_soon([future]() mutable { future.set_result(); });
    co_await future;
    EXPECT_TRUE(future.done());
    future.result();
    EXPECT_THROW(future.set_result(), aio::InvalidStateError);
  }());
}

TEST_P(AioFuture, SeveralTasksAwaitingOneFutureAllGetTheResult) {
  run([]() -> aio::Task<void> {
    aio::Future<int> future = aio::get_running_loop().create_future<int>();
    auto a = aio::create_task(await_value(future));
    auto b = aio::create_task(await_value(future));
    future.set_result(5);
    EXPECT_EQ(co_await a, 5);
    EXPECT_EQ(co_await b, 5);
  }());
}

// ---- cancellation both ways ---------------------------------------------------------

TEST_P(AioFuture, ACancelledFutureRaisesCancelledErrorInTheAwaitingTask) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> started = loop.create_future();
    aio::Future<int> future = loop.create_future<int>();
    auto task = aio::create_task(await_after(started, future));
    co_await started;
    EXPECT_TRUE(future.cancel("stop it"));
    try {
      co_await task;
      ADD_FAILURE() << "the awaiting task was not cancelled";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(message_of(error), "stop it");
    }
    EXPECT_TRUE(task.cancelled());
  }());
}

TEST_P(AioFuture, CancellingTheAwaitingTaskCancelsTheFuture) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> started = loop.create_future();
    aio::Future<int> future = loop.create_future<int>();
    auto task = aio::create_task(await_after(started, future));
    co_await started;
    EXPECT_TRUE(task.cancel("give up"));
    EXPECT_TRUE(future.cancelled());  // at once, as Python's Task.cancel does
    try {
      future.result();
      ADD_FAILURE() << "result() of the cancelled future did not throw";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(message_of(error), "give up");
    }
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_TRUE(task.cancelled());
  }());
}

TEST_P(AioFuture, CancellingTheTaskAfterTheFutureIsDoneStillCancelsTheTask) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> started = loop.create_future();
    aio::Future<int> future = loop.create_future<int>();
    auto task = aio::create_task(await_after(started, future));
    co_await started;
    future.set_result(1);
    EXPECT_TRUE(task.cancel());
    EXPECT_FALSE(future.cancelled());
    EXPECT_EQ(future.result(), 1);
    EXPECT_THROW(co_await task, aio::CancelledError);
  }());
}

TEST_P(AioFuture, AnExceptionReachingATaskCancelledInTheSameBatchIsRetrieved) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message);
    });
    {
      aio::Future<void> started = loop.create_future();
      aio::Future<int> future = loop.create_future<int>();
      auto task = aio::create_task(await_after(started, future));
      co_await started;
      future.set_exception(std::runtime_error("boom"));
      task.cancel();  // the task, woken by the future, takes the cancellation instead
      EXPECT_THROW(co_await task, aio::CancelledError);
    }
    EXPECT_EQ(reports, std::vector<std::string>{});
    loop.set_exception_handler(nullptr);
  }());
}

TEST_P(AioFuture, ShieldKeepsTheCancellationFromTheFuture) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<void> started = loop.create_future();
    aio::Future<int> future = loop.create_future<int>();
    struct Shielded {
      static aio::Task<int> body(aio::Future<void> started, aio::Future<int> future) {
        started.set_result();
        co_return co_await aio::shield(future);
      }
    };
    auto task = aio::create_task(Shielded::body(started, future));
    co_await started;
    task.cancel();
    EXPECT_THROW(co_await task, aio::CancelledError);
    EXPECT_FALSE(future.done());
    future.set_result(3);
    EXPECT_EQ(co_await aio::shield(future), 3);
  }());
}

// ---- done callbacks ---------------------------------------------------------------

TEST_P(AioFuture, DoneCallbacksRunThroughCallSoonInTheOrderAdded) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> future = loop.create_future<int>();
    aio::Future<void> all_ran = loop.create_future();
    auto calls = std::make_shared<std::vector<std::string>>();
    future.add_done_callback([calls, future](aio::Future<int>& done) {
      EXPECT_TRUE(done == future);
      calls->push_back("first " + std::to_string(done.result()));
    });
    future.add_done_callback([calls](aio::Future<int>&) { calls->push_back("second"); });
    future.add_done_callback([all_ran](aio::Future<int>&) mutable { all_ran.set_result(); });
    future.set_result(9);
    EXPECT_TRUE(calls->empty()) << "a done callback ran inside set_result()";
    co_await all_ran;
    EXPECT_EQ(*calls, (std::vector<std::string>{"first 9", "second"}));
  }());
}

TEST_P(AioFuture, ACallbackAddedToADoneFutureIsScheduledNotCalled) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> future = loop.create_future<int>();
    future.cancel();
    aio::Future<bool> ran = loop.create_future<bool>();
    future.add_done_callback([ran](aio::Future<int>& done) mutable { ran.set_result(done.cancelled()); });
    EXPECT_FALSE(ran.done());
    EXPECT_TRUE(co_await ran);
  }());
}

TEST_P(AioFuture, RemoveDoneCallbackCountsWhatItRemoved) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> future = loop.create_future<int>();
    aio::Future<void> last = loop.create_future();
    bool removed_ran = false;
    auto id = future.add_done_callback([&removed_ran](aio::Future<int>&) { removed_ran = true; });
    future.add_done_callback([last](aio::Future<int>&) mutable { last.set_result(); });
    EXPECT_EQ(future.remove_done_callback(id), 1u);
    EXPECT_EQ(future.remove_done_callback(id), 0u);
    EXPECT_EQ(future.remove_done_callback(12345), 0u);
    future.set_result(0);
    co_await last;
    EXPECT_FALSE(removed_ran);
    auto late = future.add_done_callback([](aio::Future<int>&) {});
    EXPECT_EQ(future.remove_done_callback(late), 0u);  // already scheduled
  }());
}

TEST_P(AioFuture, AnExceptionNeverRetrievedIsReportedWhenTheLastHandleGoes) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    std::vector<std::string> reports;
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message);
    });
    {
      aio::Future<int> retrieved = loop.create_future<int>();
      retrieved.set_exception(std::runtime_error("seen"));
      EXPECT_NE(retrieved.exception(), nullptr);
      aio::Future<int> lost = loop.create_future<int>();
      lost.set_exception(std::runtime_error("lost"));
      aio::Future<int> cancelled = loop.create_future<int>();
      cancelled.cancel();
    }
    EXPECT_EQ(reports, (std::vector<std::string>{"Future exception was never retrieved"}));
    loop.set_exception_handler(nullptr);
    co_return;
  }());
}

// ---- another loop, another thread ------------------------------------------------------

TEST_P(AioFuture, AwaitingAFutureOfAnotherLoopIsARuntimeError) {
  aio::EventLoop other(weft::io::LoopOptions{.backend = GetParam()});
  aio::Future<int> foreign = other.create_future<int>();
  run([](aio::Future<int> foreign) -> aio::Task<void> {
    try {
      co_await foreign;
      ADD_FAILURE() << "awaiting a future of another loop did not throw";
    } catch (const weft::RuntimeError& error) {
      EXPECT_NE(std::string(error.what()).find("attached to a different loop"), std::string::npos) << error.what();
    }
    EXPECT_FALSE(foreign.done());
  }(foreign));
}

TEST_P(AioFuture, AnotherThreadSetsTheResultThroughCallSoonThreadsafe) {
  EXPECT_EQ(run([]() -> aio::Task<int> {
              aio::EventLoop& loop = aio::get_running_loop();
              aio::Future<int> future = loop.create_future<int>();
              // The loop has nothing else to wait for: tell it another
              // thread will call in.
              aio::EventLoop::KeepAlive keep_alive = loop.keep_alive();
              aio::Future<int> handle = future;  // copied here, moved to the other thread
              std::thread setter([&loop, handle = std::move(handle)]() mutable {
                loop.call_soon_threadsafe([handle = std::move(handle)]() mutable { handle.set_result(11); });
              });
              int value = co_await future;
              setter.join();
              co_return value;
            }()),
            11);
}

// ---- combinators --------------------------------------------------------------------

TEST_P(AioFuture, GatherTakesFuturesBesideTasks) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> a = loop.create_future<int>();
    aio::Future<std::string> b = loop.create_future<std::string>();
    loop.call_soon([a, b]() mutable {
      b.set_result("b");
      a.set_result(1);
    });
    auto [x, y, z] = co_await aio::gather(a, b, await_value(a));
    EXPECT_EQ(x, 1);
    EXPECT_EQ(y, "b");
    EXPECT_EQ(z, 1);

    std::vector<aio::Future<int>> many{loop.create_future<int>(), loop.create_future<int>()};
    many[1].set_result(2);
    many[0].set_exception(std::logic_error("first"));
    auto outcomes = co_await aio::gather(aio::return_exceptions, many);
    CO_ASSERT_TRUE(outcomes.size() == 2);
    EXPECT_FALSE(outcomes[0].has_value());
    EXPECT_EQ(outcomes[1].value(), 2);
    many[0].exception();
  }());
}

TEST_P(AioFuture, WaitForCancelsTheFutureWhenTheTimeRunsOut) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> never = loop.create_future<int>();
    EXPECT_THROW(co_await aio::wait_for(never, 5ms), weft::TimeoutError);
    EXPECT_TRUE(never.cancelled());
    aio::Future<int> soon = loop.create_future<int>();
    loop.call_soon([soon]() mutable { soon.set_result(4); });
    EXPECT_EQ(co_await aio::wait_for(soon, 10s), 4);
  }());
}

TEST_P(AioFuture, EnsureFutureGivesATaskForWaitAndCancellingItCancelsTheFuture) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> first = loop.create_future<int>();
    aio::Future<int> second = loop.create_future<int>();
    std::vector<aio::TaskHandle<int>> tasks{aio::ensure_future(first), aio::ensure_future(second)};
    first.set_result(1);
    auto [done, pending] = co_await aio::wait(tasks, aio::FIRST_COMPLETED);
    CO_ASSERT_TRUE(done.size() == 1 && pending.size() == 1);
    EXPECT_EQ(done[0].result(), 1);
    pending[0].cancel();
    EXPECT_THROW(co_await pending[0], aio::CancelledError);
    EXPECT_TRUE(second.cancelled());
  }());
}

TEST_P(AioFuture, TheCombinatorsLeaveTheValueInTheFuture) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    const std::string value(64, 'v');  // on the heap: a move leaves it empty
    aio::Future<std::string> future = loop.create_future<std::string>();
    future.set_result(value);
    std::string waited = co_await aio::wait_for(future, 10s);
    EXPECT_EQ(waited, value);
    EXPECT_EQ(future.result(), value);
    std::vector<aio::Future<std::string>> twice(2, future);
    std::vector<std::string> both = co_await aio::gather(std::move(twice));
    EXPECT_EQ(both, std::vector<std::string>(2, value));
    std::string shielded = co_await aio::shield(future);
    EXPECT_EQ(shielded, value);
    std::string ensured = co_await aio::ensure_future(future);
    EXPECT_EQ(ensured, value);
    std::string awaited = co_await future;
    EXPECT_EQ(awaited, value);
  }());
}

TEST_P(AioFuture, EnsureFutureCancelledBeforeItRunsCancelsTheFuture) {
  run([]() -> aio::Task<void> {
    aio::Future<int> future = aio::get_running_loop().create_future<int>();
    aio::TaskHandle<int> task = aio::ensure_future(future);
    task.cancel("not now");
    EXPECT_THROW(co_await task, aio::CancelledError);
    CO_ASSERT_TRUE(future.cancelled());
    try {
      future.result();
      ADD_FAILURE() << "result() of the cancelled future did not throw";
    } catch (const aio::CancelledError& error) {
      EXPECT_EQ(message_of(error), "not now");
    }
  }());
}

TEST_P(AioFuture, WaitForWithNoTimeLeftReturnsADoneFutureAndCancelsAPendingOne) {
  run([]() -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    aio::Future<int> done = loop.create_future<int>();
    done.set_result(7);
    EXPECT_EQ(co_await aio::wait_for(done, 0s), 7);
    aio::Future<int> failed = loop.create_future<int>();
    failed.set_exception(std::out_of_range("range"));
    EXPECT_THROW(co_await aio::wait_for(failed, -1s), std::out_of_range);
    aio::Future<int> pending = loop.create_future<int>();
    EXPECT_THROW(co_await aio::wait_for(pending, 0s), weft::TimeoutError);
    EXPECT_TRUE(pending.cancelled());
    aio::Future<int> unstarted = loop.create_future<int>();  // the time runs out before its task's first step
    EXPECT_THROW(co_await aio::wait_for(unstarted, 1ns), weft::TimeoutError);
    EXPECT_TRUE(unstarted.cancelled());
  }());
}

TEST_P(AioFuture, TheCombinatorsRefuseAFutureOfAnotherLoop) {
  aio::EventLoop other(weft::io::LoopOptions{.backend = GetParam()});
  aio::Future<int> foreign = other.create_future<int>();
  run([](aio::Future<int> foreign) -> aio::Task<void> {
    try {
      aio::ensure_future(foreign);
      ADD_FAILURE() << "ensure_future() took a future of another loop";
    } catch (const weft::RuntimeError& error) {
      EXPECT_NE(std::string(error.what()).find("attached to a different loop"), std::string::npos) << error.what();
    }
    std::vector<aio::Future<int>> foreigners(1, foreign);
    EXPECT_THROW(co_await aio::gather(std::move(foreigners)), weft::RuntimeError);
    EXPECT_THROW(co_await aio::wait_for(foreign, 10ms), weft::RuntimeError);
    EXPECT_THROW(co_await aio::shield(foreign), weft::RuntimeError);
  }(foreign));
  EXPECT_FALSE(foreign.done());
}

TEST_P(AioFuture, AFuturePendingWhenItsLoopEndsIsFreedWithItsLastHandle) {
  aio::Future<int> kept = run([]() -> aio::Task<aio::Future<int>> {
    aio::Future<int> future = aio::get_running_loop().create_future<int>();
    future.add_done_callback([](aio::Future<int>&) {});
    co_return future;
  }());
  EXPECT_FALSE(kept.done());
}

TEST_P(AioFuture, CompletingAFutureWhoseLoopIsGoneCannotScheduleItsCallbacks) {
  std::optional<aio::Future<int>> with_callback;
  std::optional<aio::Future<int>> without;
  std::optional<aio::Future<int>> failed;
  {
    aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
    with_callback = loop.create_future<int>();
    with_callback->add_done_callback([](aio::Future<int>&) { ADD_FAILURE() << "a callback ran without its loop"; });
    without = loop.create_future<int>();
    failed = loop.create_future<int>();
  }
  try {
    with_callback->set_result(1);
    ADD_FAILURE() << "set_result() scheduled a callback on a loop that is gone";
  } catch (const weft::RuntimeError& error) {
    EXPECT_STREQ(error.what(), "Event loop is closed");
  }
  EXPECT_TRUE(with_callback->done());  // done all the same, as in Python
  EXPECT_EQ(with_callback->result(), 1);
  without->set_result(2);
  EXPECT_EQ(without->result(), 2);
  EXPECT_THROW(without->add_done_callback([](aio::Future<int>&) {}), weft::RuntimeError);
  failed->set_exception(std::runtime_error("reported to stderr"));  // never retrieved: the default handler
  failed.reset();
}

WEFT_AIO_BOTH_BACKENDS(AioFuture);

// A task that takes every cancellation and waits again is abandoned when
// its loop is destroyed; its frame is kept for good, so these tests keep
// what it refers to for good too (reachable, not leaked).
using AioFutureAbandonedTask = ::testing::TestWithParam<weft::io::Backend>;

TEST_P(AioFutureAbandonedTask, CompletingWhatAnAbandonedTaskAwaitsTouchesNoLoop) {
  struct Abandoned {
    aio::Event event;
    std::optional<aio::Future<int>> future;  // the one the task awaits now
    std::vector<aio::TaskHandle<void>> tasks;
    static aio::Task<void> await_futures(Abandoned& self) {
      for (;;) {
        self.future = aio::get_running_loop().create_future<int>();  // a cancellation cancels the last one
        try {
          co_await *self.future;
          co_return;
        } catch (const aio::CancelledError&) {
        }
      }
    }
    static aio::Task<void> await_event(Abandoned& self) {
      for (;;) {
        try {
          co_await self.event.wait();
          co_return;
        } catch (const aio::CancelledError&) {
        }
      }
    }
  };
  static auto* const kept = new std::vector<std::unique_ptr<Abandoned>>;
  Abandoned& abandoned = *kept->emplace_back(std::make_unique<Abandoned>());
  int reports = 0;
  {
    aio::EventLoop loop(weft::io::LoopOptions{.backend = GetParam()});
    loop.set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext&) { ++reports; });
    abandoned.tasks.push_back(loop.create_task(Abandoned::await_futures(abandoned)));
    abandoned.tasks.push_back(loop.create_task(Abandoned::await_event(abandoned)));
    loop.run_until_complete([]() -> aio::Task<void> { co_await aio::sleep(0s); }());
    loop.close();
    EXPECT_FALSE(abandoned.tasks[0].done());
    EXPECT_FALSE(abandoned.tasks[1].done());
    EXPECT_GT(reports, 0);  // "Task was destroyed but it is pending!"
  }
  abandoned.future->set_result(1);
  abandoned.event.set();
  EXPECT_FALSE(abandoned.tasks[0].done());
  EXPECT_FALSE(abandoned.tasks[1].done());
}

WEFT_AIO_BOTH_BACKENDS(AioFutureAbandonedTask);

