// weft::futures::Future: the state machine, results and exceptions with timeouts, callbacks, then() chains, when_all/when_any.
#include <gtest/gtest.h>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "futures/futures_support.hpp"

namespace {

using namespace weft::test;
using weft::futures::Future;
namespace futures = weft::futures;

struct Oops : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class E>
std::exception_ptr error(const char* what) {
  return std::make_exception_ptr(E(what));
}

// ---- the state machine ----

TEST(Future, StartsPending) {
  Future<int> f;
  EXPECT_FALSE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
  EXPECT_FALSE(f.wait(0ms));
}

TEST(Future, SetResultFinishesIt) {
  Future<int> f;
  f.set_result(42);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 42);
  EXPECT_EQ(f.result(0ms), 42);
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_EQ(f.exception(0ms), nullptr);
  EXPECT_TRUE(f.wait(0ms));
}

TEST(Future, PendingCanBeFinishedWithoutRunning) {
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_running_or_notify_cancel(), weft::RuntimeError);
}

TEST(Future, SetRunningMarksItRunning) {
  Future<int> f;
  EXPECT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_TRUE(f.running());
  EXPECT_FALSE(f.done());
  f.set_result(3);
  EXPECT_FALSE(f.running());
  EXPECT_TRUE(f.done());
  EXPECT_EQ(f.result(), 3);
}

TEST(Future, SetRunningTwiceThrowsRuntimeError) {
  Future<int> f;
  ASSERT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_THROW(f.set_running_or_notify_cancel(), weft::RuntimeError);
  EXPECT_TRUE(f.running());
}

TEST(Future, SetRunningOnCancelledReturnsFalse) {
  Future<int> f;
  ASSERT_TRUE(f.cancel());
  EXPECT_FALSE(f.set_running_or_notify_cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_FALSE(f.running());
}

TEST(Future, CopiesShareOneOutcome) {
  Future<int> a;
  Future<int> b = a;
  EXPECT_TRUE(a == b);
  EXPECT_EQ(a.id(), b.id());
  EXPECT_FALSE(a == Future<int>());
  a.set_result(5);
  EXPECT_TRUE(b.done());
  EXPECT_EQ(b.result(), 5);
}

// ---- cancellation ----

TEST(Future, CancelWhilePendingSucceeds) {
  Future<int> f;
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(f.cancelled());
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.running());
  EXPECT_TRUE(f.cancel()) << "cancelling a cancelled future reports it cancelled";
  EXPECT_THROW(f.result(), futures::CancelledError);
  EXPECT_THROW(f.result(0ms), futures::CancelledError);
  EXPECT_THROW(f.exception(), futures::CancelledError);
  EXPECT_TRUE(f.wait(0ms));
}

TEST(Future, CancelFailsWhileRunning) {
  Future<int> f;
  ASSERT_TRUE(f.set_running_or_notify_cancel());
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
  EXPECT_TRUE(f.running());
  f.set_result(9);
  EXPECT_EQ(f.result(), 9);
}

TEST(Future, CancelFailsOnceFinished) {
  Future<int> f;
  f.set_result(1);
  EXPECT_FALSE(f.cancel());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 1);

  Future<int> g;
  g.set_exception(error<Oops>("x"));
  EXPECT_FALSE(g.cancel());
  EXPECT_THROW(g.result(), Oops);
}

TEST(Future, CancelledErrorIsNotARuntimeError) {
  Future<int> f;
  f.cancel();
  EXPECT_THROW(
      {
        try {
          f.result();
        } catch (const std::runtime_error&) {
          ADD_FAILURE() << "a cancellation was caught as std::runtime_error";
        }
      },
      futures::CancelledError);
}

// ---- completing twice ----

TEST(Future, SetResultTwiceThrowsInvalidStateError) {
  Future<int> f;
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), futures::InvalidStateError);
  EXPECT_THROW(f.set_exception(error<Oops>("late")), futures::InvalidStateError);
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, SetExceptionTwiceThrowsInvalidStateError) {
  Future<int> f;
  f.set_exception(error<Oops>("first"));
  EXPECT_THROW(f.set_exception(error<Oops>("second")), futures::InvalidStateError);
  EXPECT_THROW(f.set_result(2), futures::InvalidStateError);
  EXPECT_EQ(weft::detail::exception_text(f.exception()), "first");
}

TEST(Future, CompletingACancelledFutureThrowsInvalidStateError) {
  Future<int> f;
  f.cancel();
  EXPECT_THROW(f.set_result(1), futures::InvalidStateError);
  EXPECT_THROW(f.set_exception(error<Oops>("x")), futures::InvalidStateError);
  EXPECT_TRUE(f.cancelled());
}

// ---- results, exceptions and timeouts ----

TEST(Future, ResultRethrowsTheExceptionWithItsType) {
  Future<int> f;
  f.set_exception(error<Oops>("bad"));
  EXPECT_TRUE(f.done());
  EXPECT_THROW(f.result(), Oops);
  EXPECT_THROW(f.result(), Oops) << "every call re-throws";
  EXPECT_EQ(weft::detail::exception_text(f.exception()), "bad");
}

TEST(Future, ExceptionsThatAreNotStdExceptionsKeepTheirType) {
  Future<std::string> f;
  f.set_exception(std::make_exception_ptr(17));
  try {
    f.result();
    ADD_FAILURE() << "result() did not throw";
  } catch (int value) {
    EXPECT_EQ(value, 17);
  }
}

TEST(Future, ResultTimesOutWhilePending) {
  Future<int> f;
  Stopwatch sw;
  EXPECT_THROW(f.result(kTick), futures::TimeoutError);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_THROW(f.result(0ms), futures::TimeoutError);
  EXPECT_FALSE(f.done());
}

TEST(Future, ANegativeTimeoutCountsAsZero) {
  Future<int> f;
  EXPECT_THROW(f.result(-1ms), futures::TimeoutError);
  EXPECT_THROW(f.exception(-1ms), futures::TimeoutError);
  EXPECT_FALSE(f.wait(-1ms));
  f.set_result(7);
  EXPECT_EQ(f.result(-1ms), 7);
  EXPECT_EQ(f.exception(-1ms), nullptr);
  EXPECT_TRUE(f.wait(-1ms));
}

TEST(Future, ExceptionTimesOutWhilePending) {
  Future<int> f;
  Stopwatch sw;
  EXPECT_THROW(f.exception(kTick), futures::TimeoutError);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TEST(Future, TimedWaitReturnsFalseInsteadOfThrowing) {
  Future<void> f;
  Stopwatch sw;
  EXPECT_FALSE(f.wait(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TEST(Future, ResultWakesWhenAnotherThreadCompletes) {
  Future<int> f;
  SleepProbe probe;
  weft::Thread completer([&] {
    if (probe.wait_asleep()) f.set_result(8);
  });
  completer.start();
  probe.arm();
  EXPECT_EQ(f.result(kPatience), 8);
  completer.join();
}

TEST(Future, ExceptionWakesWhenAnotherThreadFails) {
  Future<int> f;
  SleepProbe probe;
  weft::Thread completer([&] {
    if (probe.wait_asleep()) f.set_exception(error<Oops>("late"));
  });
  completer.start();
  probe.arm();
  EXPECT_EQ(weft::detail::exception_text(f.exception(kPatience)), "late");
  completer.join();
}

TEST(Future, CancelWakesABlockedWaiter) {
  Future<int> f;
  SleepProbe probe;
  std::atomic<bool> saw_cancelled{false};
  weft::Thread waiter([&] {
    probe.arm();
    try {
      f.result(kPatience);
    } catch (const futures::CancelledError&) {
      saw_cancelled = true;
    }
  });
  waiter.start();
  ASSERT_TRUE(probe.wait_asleep());
  EXPECT_TRUE(f.cancel());
  waiter.join();
  EXPECT_TRUE(saw_cancelled);
}

TEST(Future, ResultReferenceStaysValidWhileACopyLives) {
  Future<std::string> f;
  f.set_result(std::string(100, 'x'));
  const std::string& first = f.result();
  Future<std::string> copy = f;
  f = Future<std::string>();
  EXPECT_EQ(&first, &copy.result());
  EXPECT_EQ(first.size(), 100u);
}

// ---- Future<void> and move-only values ----

TEST(Future, VoidFutureCompletes) {
  Future<void> f;
  EXPECT_FALSE(f.done());
  f.set_result();
  EXPECT_TRUE(f.done());
  EXPECT_NO_THROW(f.result());
  EXPECT_NO_THROW(f.result(0ms));
  EXPECT_EQ(f.exception(), nullptr);
  EXPECT_THROW(f.set_result(), futures::InvalidStateError);
}

TEST(Future, VoidFutureCarriesExceptionsAndCancellation) {
  Future<void> failed;
  failed.set_exception(error<Oops>("v"));
  EXPECT_THROW(failed.result(), Oops);

  Future<void> cancelled;
  EXPECT_TRUE(cancelled.cancel());
  EXPECT_THROW(cancelled.result(), futures::CancelledError);
}

TEST(Future, HoldsAMoveOnlyValue) {
  Future<std::unique_ptr<int>> f;
  f.set_result(std::make_unique<int>(7));
  ASSERT_NE(f.result(), nullptr);
  EXPECT_EQ(*f.result(), 7);
  auto plus_one = f.then([](const std::unique_ptr<int>& p) { return std::make_unique<int>(*p + 1); });
  EXPECT_EQ(*plus_one.result(), 8);
}

TEST(Future, ConstructsTheValueInPlaceFromSeveralArguments) {
  Future<std::string> f;
  f.set_result(3, 'a');
  EXPECT_EQ(f.result(), "aaa");
}

// ---- done-callbacks ----

TEST(Future, CallbackRunsOnceOnCompletionWithTheFuture) {
  Future<int> f;
  int calls = 0;
  int seen = 0;
  f.add_done_callback([&](Future<int> done) {
    ++calls;
    EXPECT_TRUE(done == f);
    seen = done.result();
  });
  EXPECT_EQ(calls, 0);
  f.set_result(11);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen, 11);
}

TEST(Future, CallbacksRunInTheOrderAdded) {
  Future<int> f;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) f.add_done_callback([&order, i](Future<int>) { order.push_back(i); });
  f.set_result(0);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Future, CallbackRunsAtOnceOnTheCallerIfAlreadyDone) {
  Future<int> f;
  f.set_result(4);
  bool ran = false;
  weft::ThreadHandle ran_on = weft::main_thread();
  f.add_done_callback([&](Future<int> done) {
    ran = true;
    ran_on = weft::current_thread();
    EXPECT_EQ(done.result(), 4);
  });
  EXPECT_TRUE(ran);
  EXPECT_TRUE(ran_on == weft::current_thread());
}

TEST(Future, CallbackRunsOnTheCompletingThread) {
  Future<int> f;
  std::string ran_on;
  f.add_done_callback([&](Future<int>) { ran_on = weft::current_thread().name(); });
  weft::Thread completer({.name = "completer"}, [&] { f.set_result(1); });
  completer.start();
  completer.join();
  EXPECT_EQ(ran_on, "completer");
}

TEST(Future, CallbackRunsOnCancellation) {
  Future<int> f;
  bool saw_cancelled = false;
  f.add_done_callback([&](Future<int> done) { saw_cancelled = done.cancelled(); });
  EXPECT_TRUE(f.cancel());
  EXPECT_TRUE(saw_cancelled);
}

TEST(Future, CallbackRunsOnException) {
  Future<void> f;
  std::string seen;
  f.add_done_callback([&](Future<void> done) { seen = weft::detail::exception_text(done.exception()); });
  f.set_exception(error<Oops>("e"));
  EXPECT_EQ(seen, "e");
}

TEST(Future, ACallbackCanAddAnotherCallback) {
  Future<int> f;
  bool inner_ran = false;
  f.add_done_callback([&](Future<int> done) { done.add_done_callback([&](Future<int>) { inner_ran = true; }); });
  f.set_result(1);
  EXPECT_TRUE(inner_ran);
}

TEST(Future, ThrowingCallbackIsReportedAndTheOthersStillRun) {
  CallbackExceptions reported;
  Future<int> f;
  bool later_ran = false;
  f.add_done_callback([](Future<int>) { throw Oops("callback failed"); });
  f.add_done_callback([&](Future<int>) { later_ran = true; });
  EXPECT_NO_THROW(f.set_result(1));
  EXPECT_TRUE(later_ran);
  EXPECT_EQ(reported.seen(), (std::vector<std::string>{"callback failed"}));
  EXPECT_EQ(f.result(), 1);
}

TEST(Future, ThrowingCallbackOnADoneFutureIsReportedNotThrown) {
  CallbackExceptions reported;
  Future<int> f;
  f.set_result(1);
  EXPECT_NO_THROW(f.add_done_callback([](Future<int>) { throw Oops("at once"); }));
  EXPECT_EQ(reported.seen(), (std::vector<std::string>{"at once"}));
}

TEST(Future, ThrowingCallbackOnAWorkerIsReported) {
  CallbackExceptions reported;
  Future<int> f;
  f.add_done_callback([](Future<int>) { throw Oops("on another thread"); });
  weft::Thread completer([&] { f.set_result(1); });
  completer.start();
  completer.join();
  EXPECT_EQ(reported.seen(), (std::vector<std::string>{"on another thread"}));
}

TEST(Future, SetCallbackExceptionHandlerReturnsThePreviousOne) {
  int first_calls = 0;
  auto original = futures::set_callback_exception_handler([&](std::exception_ptr) { ++first_calls; });
  auto mine = futures::set_callback_exception_handler([](std::exception_ptr) {});
  ASSERT_TRUE(static_cast<bool>(mine));
  mine(nullptr);
  EXPECT_EQ(first_calls, 1);
  futures::set_callback_exception_handler(std::move(original));
}

TEST(Future, DefaultCallbackExceptionHandlerPrintsToStandardError) {
  auto previous = futures::set_callback_exception_handler({});
  Future<int> f;
  f.add_done_callback([](Future<int>) { throw Oops("printed"); });
  testing::internal::CaptureStderr();
  f.set_result(1);
  const std::string printed = testing::internal::GetCapturedStderr();
  futures::set_callback_exception_handler(std::move(previous));
  EXPECT_NE(printed.find("exception calling callback for future"), std::string::npos) << printed;
  EXPECT_NE(printed.find("printed"), std::string::npos) << printed;
}

TEST(Future, AHandlerThatThrowsDoesNotEscape) {
  auto previous = futures::set_callback_exception_handler([](std::exception_ptr) { throw Oops("handler"); });
  Future<int> f;
  f.add_done_callback([](Future<int>) { throw Oops("callback"); });
  testing::internal::CaptureStderr();
  EXPECT_NO_THROW(f.set_result(1));
  testing::internal::GetCapturedStderr();
  futures::set_callback_exception_handler(std::move(previous));
  EXPECT_EQ(f.result(), 1);
}

// ---- then() ----

TEST(Future, ThenMapsTheValueOnceDone) {
  Future<int> f;
  Future<int> doubled = f.then([](int x) { return x * 2; });
  EXPECT_FALSE(doubled.done());
  f.set_result(21);
  EXPECT_EQ(doubled.result(0ms), 42);
}

TEST(Future, ThenOnADoneFutureRunsAtOnceOnTheCaller) {
  Future<int> f;
  f.set_result(1);
  weft::ThreadHandle ran_on = weft::main_thread();
  auto next = f.then([&](int x) {
    ran_on = weft::current_thread();
    return x + 1;
  });
  EXPECT_TRUE(next.done());
  EXPECT_EQ(next.result(), 2);
  EXPECT_TRUE(ran_on == weft::current_thread());
}

TEST(Future, CallbacksAndContinuationsMayBeMoveOnly) {
  Future<int> f;
  std::atomic<int> seen{0};
  f.add_done_callback([&seen, own = std::make_unique<int>(1)](Future<int> done) { seen = *own + done.result(); });
  auto next = f.then([own = std::make_unique<int>(10)](const int& v) { return *own + v; });
  f.set_result(5);
  EXPECT_EQ(seen, 6);
  EXPECT_EQ(next.result(), 15);
}

TEST(Future, ThenChainsChangeTypes) {
  Future<int> f;
  auto text = f.then([](int x) { return x + 1; }).then([](int x) { return std::to_string(x); });
  auto length = text.then([](const std::string& s) { return s.size(); });
  f.set_result(99);
  EXPECT_EQ(text.result(), "100");
  EXPECT_EQ(length.result(), 3u);
}

TEST(Future, ThenWithVoidOnEitherSide) {
  Future<void> start;
  int side_effect = 0;
  Future<int> value = start.then([] { return 5; });
  Future<void> done = value.then([&](int x) { side_effect = x; });
  Future<void> after = done.then([&] { side_effect *= 2; });
  start.set_result();
  EXPECT_NO_THROW(after.result(0ms));
  EXPECT_EQ(value.result(), 5);
  EXPECT_EQ(side_effect, 10);
}

TEST(Future, ThenCarriesTheSourceExceptionThroughTheChain) {
  Future<int> f;
  bool called = false;
  auto next = f.then([&](int x) {
    called = true;
    return x;
  });
  auto last = next.then([&](int x) {
    called = true;
    return x;
  });
  f.set_exception(error<Oops>("source"));
  EXPECT_FALSE(called);
  EXPECT_THROW(next.result(0ms), Oops);
  EXPECT_THROW(last.result(0ms), Oops);
  EXPECT_EQ(weft::detail::exception_text(last.exception()), "source");
}

TEST(Future, ThenCarriesTheContinuationsException) {
  Future<int> f;
  auto next = f.then([](int) -> int { throw std::out_of_range("continuation"); });
  auto last = next.then([](int x) { return x; });
  f.set_result(1);
  EXPECT_THROW(next.result(0ms), std::out_of_range);
  EXPECT_THROW(last.result(0ms), std::out_of_range);
}

TEST(Future, ThenPropagatesCancellation) {
  Future<int> f;
  bool called = false;
  auto next = f.then([&](int x) {
    called = true;
    return x;
  });
  auto last = next.then([](int x) { return x; });
  ASSERT_TRUE(f.cancel());
  EXPECT_FALSE(called);
  EXPECT_TRUE(next.cancelled());
  EXPECT_TRUE(last.cancelled());
  EXPECT_THROW(last.result(0ms), futures::CancelledError);
}

TEST(Future, CancellingTheContinuationBeforeTheSourceCompletesIsHarmless) {
  CallbackExceptions reported;
  Future<int> f;
  bool called = false;
  auto next = f.then([&](int x) {
    called = true;
    return x;
  });
  EXPECT_TRUE(next.cancel());
  EXPECT_NO_THROW(f.set_result(1));
  EXPECT_TRUE(next.cancelled());
  EXPECT_TRUE(reported.seen().empty());
}

TEST(Future, ThenRunsOnTheCompletingThread) {
  Future<int> f;
  auto name = f.then([](int) { return weft::current_thread().name(); });
  weft::Thread completer({.name = "then-thread"}, [&] { f.set_result(0); });
  completer.start();
  EXPECT_EQ(name.result(kPatience), "then-thread");
  completer.join();
}

TEST(Future, ThenOnAPoolFutureWhoseHandleWasDropped) {
  futures::ThreadPoolExecutor pool(1);
  weft::Event gate;
  auto next = pool.submit([&] { return gate.wait(kPatience) ? 20 : -1; }).then([](int x) { return x + 1; });
  gate.set();
  EXPECT_EQ(next.result(kPatience), 21);
}

// ---- when_all / when_any ----

TEST(WhenAll, CompletesOnceEveryInputIsDone) {
  std::vector<Future<int>> inputs(3);
  auto all = futures::when_all(inputs);
  inputs[2].set_result(2);
  inputs[0].set_result(0);
  EXPECT_FALSE(all.done());
  inputs[1].set_result(1);
  ASSERT_TRUE(all.done());
  const auto& outputs = all.result();
  ASSERT_EQ(outputs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(outputs[i] == inputs[i]);
    EXPECT_EQ(outputs[i].result(), i);
  }
}

TEST(WhenAll, KeepsExceptionsAndCancellationsInspectable) {
  std::vector<Future<int>> inputs(3);
  auto all = futures::when_all(inputs);
  inputs[0].set_exception(error<Oops>("zero"));
  inputs[1].cancel();
  inputs[2].set_result(2);
  ASSERT_TRUE(all.done());
  EXPECT_EQ(all.exception(), nullptr);
  const auto& outputs = all.result();
  EXPECT_THROW(outputs[0].result(), Oops);
  EXPECT_TRUE(outputs[1].cancelled());
  EXPECT_EQ(outputs[2].result(), 2);
}

TEST(WhenAll, OfAlreadyDoneInputsIsDoneAtOnce) {
  std::vector<Future<int>> inputs(2);
  for (auto& f : inputs) f.set_result(1);
  EXPECT_TRUE(futures::when_all(inputs).done());
}

TEST(WhenAll, OfAnEmptyVectorIsDoneAtOnce) {
  auto all = futures::when_all(std::vector<Future<int>>{});
  ASSERT_TRUE(all.done());
  EXPECT_TRUE(all.result().empty());
}

TEST(WhenAll, VariadicMixesTypes) {
  Future<int> number;
  Future<std::string> text;
  Future<void> signal;
  auto all = futures::when_all(number, text, signal);
  number.set_result(1);
  signal.set_result();
  EXPECT_FALSE(all.done());
  text.set_result("two");
  ASSERT_TRUE(all.done());
  const auto& [n, t, s] = all.result();
  EXPECT_EQ(n.result(), 1);
  EXPECT_EQ(t.result(), "two");
  EXPECT_TRUE(s.done());
}

TEST(WhenAll, VariadicOfNothingIsDoneAtOnce) {
  auto all = futures::when_all();
  EXPECT_TRUE(all.done()) << "when_all() of no futures never completes";
}

TEST(WhenAll, CancellingTheResultBeforeTheInputsCompleteIsHarmless) {
  CallbackExceptions reported;
  std::vector<Future<int>> inputs(2);
  auto all = futures::when_all(inputs);
  auto variadic = futures::when_all(inputs[0], inputs[1]);
  ASSERT_TRUE(all.cancel());
  ASSERT_TRUE(variadic.cancel());
  EXPECT_NO_THROW(inputs[0].set_result(0));
  EXPECT_NO_THROW(inputs[1].set_result(1));
  EXPECT_TRUE(all.cancelled());
  EXPECT_TRUE(variadic.cancelled());
  EXPECT_EQ(reported.seen(), std::vector<std::string>{});
}

TEST(WhenAll, CompletesFromOtherThreads) {
  constexpr int kInputs = 8;
  std::vector<Future<int>> inputs(kInputs);
  auto all = futures::when_all(inputs);
  std::vector<std::unique_ptr<weft::Thread>> completers;
  for (int i = 0; i < kInputs; ++i) {
    completers.push_back(std::make_unique<weft::Thread>([f = inputs[i], i]() mutable { f.set_result(i); }));
    completers.back()->start();
  }
  ASSERT_TRUE(all.wait(kPatience));
  for (int i = 0; i < kInputs; ++i) EXPECT_EQ(all.result()[i].result(), i);
  for (auto& t : completers) t->join();
}

TEST(WhenAny, NamesTheFirstInputDone) {
  std::vector<Future<int>> inputs(3);
  auto any = futures::when_any(inputs);
  EXPECT_FALSE(any.done());
  inputs[2].set_result(2);
  ASSERT_TRUE(any.done());
  EXPECT_EQ(any.result(), 2u);
  inputs[0].set_result(0);
  EXPECT_EQ(any.result(), 2u);
}

TEST(WhenAny, CountsAFailureOrACancellationAsDone) {
  std::vector<Future<int>> failing(2);
  auto any_failed = futures::when_any(failing);
  failing[1].set_exception(error<Oops>("x"));
  EXPECT_EQ(any_failed.result(0ms), 1u);

  std::vector<Future<int>> cancelling(2);
  auto any_cancelled = futures::when_any(cancelling);
  cancelling[0].cancel();
  EXPECT_EQ(any_cancelled.result(0ms), 0u);
}

TEST(WhenAny, OfAnAlreadyDoneInputIsDoneAtOnce) {
  std::vector<Future<int>> inputs(3);
  inputs[1].set_result(1);
  auto any = futures::when_any(inputs);
  ASSERT_TRUE(any.done());
  EXPECT_EQ(any.result(), 1u);
}

TEST(WhenAny, CancellingTheResultBeforeAnInputCompletesIsHarmless) {
  CallbackExceptions reported;
  std::vector<Future<int>> inputs(2);
  auto any = futures::when_any(inputs);
  ASSERT_TRUE(any.cancel());
  EXPECT_NO_THROW(inputs[1].set_result(1));
  EXPECT_NO_THROW(inputs[0].set_result(0));
  EXPECT_TRUE(any.cancelled());
  EXPECT_EQ(reported.seen(), std::vector<std::string>{});
}

TEST(WhenAny, OfNothingThrowsValueError) {
  EXPECT_THROW(futures::when_any(std::vector<Future<int>>{}), weft::ValueError);
}

}  // namespace
