// Tests of weft::aio::AsyncGenerator: Python's asynchronous generators (PEP
// 525) — values with awaits between them, anext and the end of iteration,
// asend, athrow, aclose, exceptions, cancellation of the driving task while
// the body awaits, and destruction while suspended.
#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "aio/leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace {

namespace aio = weft::aio;
using aio::AsyncGenerator;
using aio::AsyncGeneratorState;
using Log = std::vector<std::string>;
using namespace std::chrono_literals;

class AsyncGen : public aio::testing::LeakCheckedTest<::testing::Test> {
 protected:
  template <class T>
  static T run(aio::Task<T> coro) {
    return aio::run(std::move(coro));
  }
};

// Counts the instances alive: shows that a frame's locals were destroyed.
struct Live {
  static inline int count = 0;
  Live() { ++count; }
  Live(const Live&) = delete;
  ~Live() { --count; }
};

// Yields 0..n-1, awaiting a loop turn and an event set by another task
// before each value.
AsyncGenerator<int> paced(Log& log, int n) {
  log.push_back("start");
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(0);
    aio::Event ready;
    auto setter = aio::create_task([](aio::Event& event) -> aio::Task<void> {
      event.set();
      co_return;
    }(ready));
    co_await ready.wait();
    co_await setter;
    log.push_back("yield " + std::to_string(i));
    co_yield i;
  }
  log.push_back("end");
}

// ---------------------------------------------------------------- anext

TEST_F(AsyncGen, YieldsValuesWithAwaitsInBetweenLazily) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = paced(log, 3);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CREATED);
    EXPECT_TRUE(log.empty()) << "the body ran before the first anext()";
    std::vector<int> values;
    while (auto value = co_await gen.try_anext()) {
      EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_SUSPENDED);
      values.push_back(*value);
    }
    EXPECT_EQ(values, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(log, (Log{"start", "yield 0", "yield 1", "yield 2", "end"}));
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
  }());
}

TEST_F(AsyncGen, AnextThrowsStopAsyncIterationAtTheEndAndEveryTimeAfter) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = paced(log, 1);
    EXPECT_EQ(co_await gen.anext(), 0);
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
    EXPECT_EQ(co_await gen.try_anext(), std::nullopt);
  }());
}

TEST_F(AsyncGen, AnEmptyGeneratorThrowsValueErrorAndClosesQuietly) {
  run([]() -> aio::Task<void> {
    AsyncGenerator<int> gen;
    EXPECT_FALSE(gen);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_THROW((void)gen.anext(), weft::ValueError);
    EXPECT_THROW((void)gen.athrow(std::runtime_error("x")), weft::ValueError);
    co_await gen.aclose();
  }());
}

AsyncGenerator<std::string> names() {
  std::string name = "kept";
  co_yield name;  // an lvalue: a copy is handed out
  EXPECT_EQ(name, "kept");
  co_yield std::string("moved");
  co_yield "converted";
}

TEST_F(AsyncGen, YieldsLvaluesByCopyAndRvaluesByMove) {
  run([]() -> aio::Task<void> {
    auto gen = names();
    EXPECT_EQ(co_await gen.anext(), "kept");
    auto moved = std::move(gen);  // between calls
    EXPECT_FALSE(gen);
    EXPECT_EQ(co_await moved.anext(), "moved");
    EXPECT_EQ(co_await moved.anext(), "converted");
    EXPECT_EQ(co_await moved.try_anext(), std::nullopt);
  }());
}

AsyncGenerator<int> one_frame_per_generator() {
  for (int i = 0; i < 100; ++i) {
    co_await aio::sleep(0);
    co_yield i;
  }
}

TEST_F(AsyncGen, TakesOneFrameAndNonePerCall) {
  run([]() -> aio::Task<void> {
    const long before = aio::detail::live_frames();
    auto gen = one_frame_per_generator();
    EXPECT_EQ(aio::detail::live_frames(), before + 1);
    int sum = 0;
    while (auto value = co_await gen.try_anext()) {
      EXPECT_EQ(aio::detail::live_frames(), before + 1);
      sum += *value;
    }
    EXPECT_EQ(sum, 4950);
  }());
}

AsyncGenerator<long> counting(long n) {
  for (long i = 0; i < n; ++i) co_yield i;
}

// Values that arrive without suspending the task take no native stack per
// value, whatever the optimisation level (a million would overflow the
// stack if each left a frame on it, as an unoptimized symmetric transfer
// does).
TEST_F(AsyncGen, AMillionValuesWithoutSuspendingRunInConstantStack) {
  run([]() -> aio::Task<void> {
    constexpr long n = 1'000'000;
    auto gen = counting(n);
    long count = 0, sum = 0;
    while (auto value = co_await gen.try_anext()) {
      ++count;
      sum += *value;
    }
    EXPECT_EQ(count, n);
    EXPECT_EQ(sum, n * (n - 1) / 2);
  }());
}

// ---------------------------------------------------------------- asend

AsyncGenerator<std::string, int> echo(Log& log) {
  for (;;) {
    std::optional<int> sent = co_yield "ready";
    co_await aio::sleep(0);
    log.push_back(sent ? std::to_string(*sent) : std::string("None"));
  }
}

TEST_F(AsyncGen, AsendGivesTheCoYieldItsValueAndAnextGivesNullopt) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = echo(log);
    EXPECT_THROW(co_await gen.asend(1), weft::TypeError);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CREATED);
    EXPECT_EQ(co_await gen.anext(), "ready");
    EXPECT_EQ(co_await gen.asend(7), "ready");
    EXPECT_EQ(co_await gen.anext(), "ready");
    EXPECT_EQ(co_await gen.try_asend(8), "ready");
    EXPECT_EQ(log, (Log{"7", "None", "8"}));
    co_await gen.aclose();
    EXPECT_THROW(co_await gen.asend(9), aio::StopAsyncIteration);
    EXPECT_EQ(co_await gen.try_asend(9), std::nullopt);
  }());
}

// ---------------------------------------------------------------- athrow

AsyncGenerator<int> recovering(Log& log) {
  Live live;
  for (int i = 0;; ++i) {
    bool caught = false;
    try {
      co_yield i;
    } catch (const std::invalid_argument& error) {
      log.push_back(std::string("caught ") + error.what());
      caught = true;
    }
    if (caught) {  // C++ allows no co_await or co_yield in a handler
      co_await aio::sleep(0);
      co_yield -1;
    }
  }
}

TEST_F(AsyncGen, AthrowRaisesAtTheCoYieldAndReturnsTheNextValue) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = recovering(log);
    EXPECT_EQ(co_await gen.anext(), 0);
    EXPECT_EQ(co_await gen.athrow(std::invalid_argument("bad")), -1);
    EXPECT_EQ(log, (Log{"caught bad"}));
    EXPECT_EQ(co_await gen.anext(), 1);
    EXPECT_THROW(co_await gen.athrow(std::make_exception_ptr(std::out_of_range("far"))), std::out_of_range);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_EQ(Live::count, 0);
    EXPECT_EQ(co_await gen.athrow(std::invalid_argument("again")), std::nullopt);
    EXPECT_THROW((void)gen.athrow(std::exception_ptr()), weft::TypeError);
  }());
}

AsyncGenerator<int> ending_on_throw() {
  try {
    co_yield 1;
  } catch (const std::invalid_argument&) {
  }
  co_await aio::sleep(0);
}

TEST_F(AsyncGen, AthrowThatEndsTheBodyThrowsStopAsyncIteration) {
  run([]() -> aio::Task<void> {
    auto gen = ending_on_throw();
    EXPECT_EQ(co_await gen.anext(), 1);
    EXPECT_THROW(co_await gen.athrow(std::invalid_argument("x")), aio::StopAsyncIteration);
  }());
}

// As Python 3.11.7+: athrow() on an exhausted or closed generator does
// nothing and evaluates to None.
TEST_F(AsyncGen, AthrowOnAnEndedGeneratorDoesNothingAndGivesNullopt) {
  run([]() -> aio::Task<void> {
    auto exhausted = counting(1);
    EXPECT_EQ(co_await exhausted.anext(), 0);
    EXPECT_EQ(co_await exhausted.try_anext(), std::nullopt);
    std::optional<long> result = 42;
    EXPECT_NO_THROW(result = co_await exhausted.athrow(std::invalid_argument("late")));
    EXPECT_EQ(result, std::nullopt);
    EXPECT_EQ(exhausted.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_THROW(co_await exhausted.anext(), aio::StopAsyncIteration);

    auto closed = counting(1);
    co_await closed.aclose();
    result = 42;
    EXPECT_NO_THROW(result = co_await closed.athrow(std::invalid_argument("late")));
    EXPECT_EQ(result, std::nullopt);
  }());
}

TEST_F(AsyncGen, AthrowBeforeTheFirstCallEndsItUnrunAndRaises) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = paced(log, 3);
    EXPECT_THROW(co_await gen.athrow(std::invalid_argument("early")), std::invalid_argument);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
  }());
}

// ---------------------------------------------------------------- aclose

AsyncGenerator<int> cleaning_up(Log& log) {
  Live live;
  std::exception_ptr closing;
  try {
    co_yield 1;
    co_yield 2;
  } catch (const aio::GeneratorExit&) {
    closing = std::current_exception();
  }
  if (closing) {
    co_await aio::sleep(0);  // an async generator may await while it cleans up
    log.push_back("cleaned up");
    std::rethrow_exception(closing);
  }
}

TEST_F(AsyncGen, AcloseRaisesGeneratorExitWhichTheBodyMayAwaitIn) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = cleaning_up(log);
    EXPECT_EQ(co_await gen.anext(), 1);
    co_await gen.aclose();
    EXPECT_EQ(log, (Log{"cleaned up"}));
    EXPECT_EQ(Live::count, 0);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    co_await gen.aclose();  // closing an ended generator does nothing
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
  }());
}

TEST_F(AsyncGen, AcloseBeforeTheFirstCallEndsItUnrun) {
  run([]() -> aio::Task<void> {
    Log log;
    auto gen = cleaning_up(log);
    co_await gen.aclose();
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_EQ(co_await gen.try_anext(), std::nullopt);
  }());
}

AsyncGenerator<int> returning_on_close() {
  try {
    co_yield 1;
  } catch (const aio::GeneratorExit&) {
    co_return;
  }
}

AsyncGenerator<int> ignoring_close() {
  for (;;) {
    try {
      co_yield 1;
    } catch (const aio::GeneratorExit&) {
    }
    co_await aio::sleep(0);
  }
}

AsyncGenerator<int> failing_on_close() {
  try {
    co_yield 1;
  } catch (const aio::GeneratorExit&) {
    throw std::logic_error("cleanup failed");
  }
}

TEST_F(AsyncGen, AcloseAcceptsAReturnRefusesAYieldAndPropagatesOtherErrors) {
  run([]() -> aio::Task<void> {
    auto returning = returning_on_close();
    EXPECT_EQ(co_await returning.anext(), 1);
    co_await returning.aclose();
    EXPECT_EQ(returning.state(), AsyncGeneratorState::AGEN_CLOSED);

    auto ignoring = ignoring_close();
    EXPECT_EQ(co_await ignoring.anext(), 1);
    try {
      co_await ignoring.aclose();
      ADD_FAILURE() << "aclose() accepted a generator that yielded";
    } catch (const weft::RuntimeError& error) {
      EXPECT_STREQ(error.what(), "async generator ignored GeneratorExit");
    }
    EXPECT_EQ(ignoring.state(), AsyncGeneratorState::AGEN_SUSPENDED);

    auto failing = failing_on_close();
    EXPECT_EQ(co_await failing.anext(), 1);
    EXPECT_THROW(co_await failing.aclose(), std::logic_error);
    EXPECT_EQ(failing.state(), AsyncGeneratorState::AGEN_CLOSED);
  }());
}

// ---------------------------------------------------------------- exceptions

AsyncGenerator<int> failing_after(int n) {
  Live live;
  for (int i = 0; i < n; ++i) co_yield i;
  co_await aio::sleep(0);
  throw std::invalid_argument("body failed");
}

TEST_F(AsyncGen, AnExceptionFromTheBodyPropagatesWithItsTypeAndEndsIt) {
  run([]() -> aio::Task<void> {
    auto gen = failing_after(1);
    EXPECT_EQ(co_await gen.anext(), 0);
    try {
      co_await gen.anext();
      ADD_FAILURE() << "the body's exception did not propagate";
    } catch (const std::invalid_argument& error) {
      EXPECT_STREQ(error.what(), "body failed");
    }
    EXPECT_EQ(Live::count, 0);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
  }());
}

AsyncGenerator<int> raising_stop_async_iteration() {
  co_yield 1;
  throw aio::StopAsyncIteration();
}

AsyncGenerator<int> raising_stop_iteration() {
  co_yield 1;
  throw aio::StopIteration();
}

TEST_F(AsyncGen, StopAsyncIterationOrStopIterationFromTheBodyBecomesRuntimeError) {
  run([]() -> aio::Task<void> {
    auto first = raising_stop_async_iteration();
    EXPECT_EQ(co_await first.anext(), 1);
    try {
      co_await first.anext();
      ADD_FAILURE() << "no exception";
    } catch (const weft::RuntimeError& error) {
      EXPECT_STREQ(error.what(), "async generator raised StopAsyncIteration");
    }
    auto second = raising_stop_iteration();
    EXPECT_EQ(co_await second.try_anext(), 1);
    EXPECT_THROW(co_await second.try_anext(), weft::RuntimeError);
  }());
}

// ---------------------------------------------------------------- tasks

// Sets `entered` and then waits on `never`, which nobody sets.
AsyncGenerator<int> stuck(Log& log, aio::Event& entered, aio::Event& never) {
  Live live;
  co_yield 0;
  try {
    entered.set();
    co_await never.wait();
  } catch (const aio::CancelledError&) {
    log.push_back("cancelled in the body");
    throw;
  }
  co_yield 1;
}

aio::Task<int> next_of(AsyncGenerator<int>& gen) { co_return co_await gen.anext(); }

TEST_F(AsyncGen, CancellingTheDrivingTaskRaisesCancelledErrorInTheBodyAtItsAwait) {
  run([]() -> aio::Task<void> {
    Log log;
    aio::Event entered, never;
    auto gen = stuck(log, entered, never);
    EXPECT_EQ(co_await gen.anext(), 0);
    auto driving = aio::create_task(next_of(gen));
    co_await entered.wait();  // `driving` is suspended in the body's await now
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_RUNNING);
    EXPECT_TRUE(driving.cancel());
    EXPECT_THROW(co_await driving, aio::CancelledError);
    EXPECT_TRUE(driving.cancelled());
    EXPECT_EQ(log, (Log{"cancelled in the body"}));
    EXPECT_EQ(Live::count, 0);
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
    EXPECT_THROW(co_await gen.anext(), aio::StopAsyncIteration);
  }());
}

TEST_F(AsyncGen, ACallWhileAnotherRunsThrowsRuntimeError) {
  run([]() -> aio::Task<void> {
    Log log;
    aio::Event entered, never;
    auto gen = stuck(log, entered, never);
    EXPECT_EQ(co_await gen.anext(), 0);
    auto driving = aio::create_task(next_of(gen));
    co_await entered.wait();
    try {
      co_await gen.anext();
      ADD_FAILURE() << "a second anext() ran";
    } catch (const weft::RuntimeError& error) {
      EXPECT_STREQ(error.what(), "anext(): asynchronous generator is already running");
    }
    EXPECT_THROW(co_await gen.athrow(std::invalid_argument("x")), weft::RuntimeError);
    EXPECT_THROW(co_await gen.aclose(), weft::RuntimeError);
    never.set();
    EXPECT_EQ(co_await driving, 1);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_SUSPENDED);
  }());
}

TEST_F(AsyncGen, ATimeoutAroundACallCancelsTheBodyAtItsAwait) {
  run([]() -> aio::Task<void> {
    Log log;
    aio::Event entered, never;
    auto gen = stuck(log, entered, never);
    EXPECT_EQ(co_await gen.anext(), 0);
    EXPECT_THROW(co_await aio::wait_for(next_of(gen), 10ms), aio::TimeoutError);
    EXPECT_EQ(log, (Log{"cancelled in the body"}));
    EXPECT_EQ(gen.state(), AsyncGeneratorState::AGEN_CLOSED);
  }());
}

// A TaskGroup made in the body and left open across a co_yield: its child
// fails once `fail` is set.
AsyncGenerator<int> grouped(aio::Event& fail) {
  aio::TaskGroup group;
  group.create_task([](aio::Event& fail) -> aio::Task<void> {
    co_await fail.wait();
    throw std::runtime_error("child failed");
  }(fail));
  co_yield 1;
  std::exception_ptr error;
  try {
    co_await group.join();
  } catch (...) {
    error = std::current_exception();
  }
  co_yield 2;
  if (error) std::rethrow_exception(error);
}

// Drives `gen` one step, or (without one) tells `started` and waits for `go`:
// one coroutine, so that both kinds of task take frames of one size.
aio::Task<int> step_or_wait(AsyncGenerator<int>* gen, aio::Event* started, aio::Event* go) {
  if (gen != nullptr) co_return co_await gen->anext();
  started->set();
  co_await go->wait();
  co_return 42;
}

// The group stays bound to the task that first drove the body, and keeps
// it alive: once that task has ended and been dropped, the group's failure
// cancels nothing else (a task made since may take the ended one's memory).
TEST_F(AsyncGen, ATaskGroupAcrossACoYieldKeepsTheTaskThatMadeIt) {
  run([]() -> aio::Task<void> {
    aio::Event fail, started, go;
    auto gen = grouped(fail);
    {
      auto first = aio::create_task(step_or_wait(&gen, nullptr, nullptr));
      EXPECT_EQ(co_await first, 1);
    }
    auto other = aio::create_task(step_or_wait(nullptr, &started, &go));
    co_await started.wait();
    fail.set();
    EXPECT_EQ(co_await gen.anext(), 2);
    EXPECT_FALSE(other.done());
    EXPECT_EQ(other.cancelling(), 0);
    go.set();
    EXPECT_EQ(co_await other, 42);
    EXPECT_THROW(co_await gen.anext(), aio::ExceptionGroup);
  }());
}

// ---------------------------------------------------------------- lifetime

AsyncGenerator<int> holding(Log& log) {
  Live live;
  try {
    co_yield 1;
    co_await aio::sleep(0);
    co_yield 2;
  } catch (const aio::GeneratorExit&) {
    log.push_back("GeneratorExit");
    throw;
  }
}

TEST_F(AsyncGen, DestroyingASuspendedGeneratorDestroysItsLocalsWithoutResumingIt) {
  run([]() -> aio::Task<void> {
    Log log;
    {
      auto gen = holding(log);
      EXPECT_EQ(co_await gen.anext(), 1);
      EXPECT_EQ(Live::count, 1);
    }
    EXPECT_EQ(Live::count, 0);
    EXPECT_TRUE(log.empty()) << "the body was resumed on destruction";
    {
      auto unstarted = holding(log);
      EXPECT_EQ(Live::count, 0);
    }
  }());
}

// asyncio.run() cancels the tasks left when its coroutine ends: one
// suspended in a generator's await gets the CancelledError there, and the
// generator, a local of that task, is destroyed with its frame.
TEST_F(AsyncGen, ATaskLeftSuspendedInTheBodyWhenRunEndsIsCancelledThere) {
  Log log;
  aio::Event entered, never;
  run([](Log& log, aio::Event& entered, aio::Event& never) -> aio::Task<void> {
    aio::create_task([](Log& log, aio::Event& entered, aio::Event& never) -> aio::Task<void> {
      auto gen = stuck(log, entered, never);
      co_await gen.anext();
      co_await gen.anext();
    }(log, entered, never));
    co_await entered.wait();
    EXPECT_EQ(Live::count, 1);
  }(log, entered, never));
  EXPECT_EQ(log, (Log{"cancelled in the body"}));
  EXPECT_EQ(Live::count, 0);
}

}  // namespace
