// EventLoop::add_signal_handler / remove_signal_handler: a signal runs its
// callback on the loop's thread outside signal context, replace, remove,
// the errors Python raises, a closed loop, two loops, the disposition put
// back, and a child of fork() — on both IO backends. SIGUSR1 and SIGUSR2
// only, ignored around each test so that a stray one harms nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "co_assert.hpp"
#include "io/signal_state.hpp"
#include "leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

namespace {

class AioSignals : public aio::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    for (int sig : {SIGUSR1, SIGUSR2}) ::signal(sig, SIG_IGN);
  }
  void TearDown() override {
    for (int sig : {SIGUSR1, SIGUSR2}) ::signal(sig, SIG_DFL);
    BackendTest::TearDown();
  }
  weft::io::LoopOptions options() const { return {.backend = GetParam()}; }
};

using Handler = weft::test::SignalHandler;
using weft::test::blocked_here;
using weft::test::disposition;

aio::Task<void> wait_event(aio::Event& event) { co_await event.wait(); }

// Waits (bounded) until `event` is set.
aio::Task<void> expect_set(aio::Event& event) { co_await aio::wait_for(wait_event(event), 10s); }

// Turns the loop until every callback already queued has run.
aio::Task<void> settle() {
  for (int i = 0; i < 3; ++i) co_await aio::sleep(0s);
}

}  // namespace

TEST_P(AioSignals, RaiseRunsTheCallbackOnTheLoopThreadOutsideSignalContext) {
  aio::EventLoop loop(options());
  aio::Event ran;
  bool raised = false;
  bool ran_after_raise = false;
  std::thread::id thread;
  bool blocked = true;
  std::string text;
  loop.add_signal_handler(SIGUSR1, [&] {
    ran_after_raise = raised;
    thread = std::this_thread::get_id();
    // In a signal handler SIGUSR1 would be blocked; here it is not, and the
    // callback may allocate and lock as it likes.
    blocked = blocked_here(SIGUSR1);
    static std::mutex mutex;
    const std::lock_guard lock(mutex);
    text = std::string(4096, 'x') + std::to_string(SIGUSR1);
    ran.set();
  });
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  loop.run_until_complete([&]() -> aio::Task<void> {
    CO_ASSERT_TRUE(::raise(SIGUSR1) == 0);
    raised = true;
    co_await expect_set(ran);
  }());
  EXPECT_TRUE(ran_after_raise) << "ran inside raise(): in signal context";
  EXPECT_EQ(thread, std::this_thread::get_id());
  EXPECT_FALSE(blocked);
  EXPECT_EQ(text.size(), 4096u + std::to_string(SIGUSR1).size());
}

TEST_P(AioSignals, KillOfTheProcessRunsTheCallback) {
  aio::EventLoop loop(options());
  aio::Event ran;
  int count = 0;
  loop.add_signal_handler(SIGUSR2, [&] {
    ++count;
    ran.set();
  });
  loop.run_until_complete([&]() -> aio::Task<void> {
    CO_ASSERT_TRUE(::kill(::getpid(), SIGUSR2) == 0);
    co_await expect_set(ran);
    co_await settle();
  }());
  EXPECT_EQ(count, 1);
}

TEST_P(AioSignals, EachArrivalRunsTheCallbackOnce) {
  aio::EventLoop loop(options());
  aio::Event third;
  int count = 0;
  loop.add_signal_handler(SIGUSR1, [&] {
    if (++count == 3) third.set();
  });
  loop.run_until_complete([&]() -> aio::Task<void> {
    for (int i = 0; i < 3; ++i) CO_ASSERT_TRUE(::raise(SIGUSR1) == 0);
    co_await expect_set(third);
    co_await settle();
  }());
  EXPECT_EQ(count, 3);
}

TEST_P(AioSignals, RegisteringAgainReplacesTheCallback) {
  aio::EventLoop loop(options());
  aio::Event ran;
  std::vector<std::string> calls;
  loop.add_signal_handler(SIGUSR1, [&] { calls.push_back("first"); });
  loop.add_signal_handler(SIGUSR1, [&] {
    calls.push_back("second");
    ran.set();
  });
  loop.run_until_complete([&]() -> aio::Task<void> {
    ::raise(SIGUSR1);
    co_await expect_set(ran);
    co_await settle();
  }());
  EXPECT_EQ(calls, std::vector<std::string>{"second"});
}

TEST_P(AioSignals, RemoveReturnsWhetherThereWasOneAndPutsTheDispositionBack) {
  aio::EventLoop loop(options());
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  loop.add_signal_handler(SIGUSR1, [] {});
  loop.add_signal_handler(SIGUSR2, [] {});
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_TRUE(loop.io().alive()) << "SIGUSR2 still has a handler";
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
  EXPECT_EQ(disposition(SIGUSR2), SIG_IGN);
  loop.run_until_complete(settle());  // delivers the cancellation of the pipe's watch
  EXPECT_FALSE(loop.io().alive()) << "no handler left: the self-pipe is closed";
}

TEST_P(AioSignals, ARemovedHandlerDoesNotRun) {
  aio::EventLoop loop(options());
  aio::Event ran;
  bool removed_ran = false;
  loop.add_signal_handler(SIGUSR1, [&] { removed_ran = true; });
  loop.add_signal_handler(SIGUSR2, [&] { ran.set(); });
  ASSERT_TRUE(loop.remove_signal_handler(SIGUSR1));
  loop.run_until_complete([&]() -> aio::Task<void> {
    ::raise(SIGUSR1);  // ignored again
    ::raise(SIGUSR2);
    co_await expect_set(ran);
    co_await settle();
  }());
  EXPECT_FALSE(removed_ran);
}

TEST_P(AioSignals, ACallbackMayRemoveItself) {
  aio::EventLoop loop(options());
  aio::Event ran;
  int count = 0;
  loop.add_signal_handler(SIGUSR1, [&] {
    ++count;
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    ran.set();
  });
  loop.run_until_complete([&]() -> aio::Task<void> {
    ::raise(SIGUSR1);
    co_await expect_set(ran);
    ::raise(SIGUSR1);  // ignored again
    co_await settle();
  }());
  EXPECT_EQ(count, 1);
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
}

TEST_P(AioSignals, InvalidSignalsRaiseValueError) {
  aio::EventLoop loop(options());
  for (int sig : {0, -1, 32, 33, 65, 1000}) {
    EXPECT_THROW(loop.add_signal_handler(sig, [] {}), weft::ValueError) << sig;
    EXPECT_THROW(loop.remove_signal_handler(sig), weft::ValueError) << sig;
  }
  try {
    loop.add_signal_handler(0, [] {});
    FAIL();
  } catch (const weft::ValueError& error) {
    EXPECT_STREQ(error.what(), "invalid signal number 0");
  }
  EXPECT_FALSE(loop.io().alive());
}

TEST_P(AioSignals, KillAndStopCannotBeCaught) {
  aio::EventLoop loop(options());
  for (int sig : {SIGKILL, SIGSTOP}) {
    try {
      loop.add_signal_handler(sig, [] {});
      FAIL() << sig;
    } catch (const weft::RuntimeError& error) {
      EXPECT_EQ(std::string(error.what()), "sig " + std::to_string(sig) + " cannot be caught");
    }
    EXPECT_FALSE(loop.remove_signal_handler(sig));
  }
  loop.run_until_complete(settle());
  EXPECT_FALSE(loop.io().alive()) << "a refused registration leaves no self-pipe";
  // A refusal leaves the other registrations alone.
  loop.add_signal_handler(SIGUSR1, [] {});
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), weft::RuntimeError);
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}

TEST_P(AioSignals, AClosedLoopRefusesAfterCheckingTheSignal) {
  aio::EventLoop loop(options());
  loop.close();
  try {
    loop.add_signal_handler(SIGUSR1, [] {});
    FAIL();
  } catch (const weft::RuntimeError& error) {
    EXPECT_STREQ(error.what(), "Event loop is closed");
  }
  EXPECT_THROW(loop.add_signal_handler(0, [] {}), weft::ValueError);
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
}

TEST_P(AioSignals, CloseRemovesTheHandlers) {
  aio::EventLoop loop(options());
  loop.add_signal_handler(SIGUSR1, [] {});
  loop.close();
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
  EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  {
    aio::EventLoop destroyed(options());
    destroyed.add_signal_handler(SIGUSR2, [] {});
  }
  EXPECT_EQ(disposition(SIGUSR2), SIG_IGN);
}

TEST_P(AioSignals, WhatTheCallbackThrowsGoesToTheExceptionHandler) {
  aio::EventLoop loop(options());
  aio::Event after;
  std::string reported;
  loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& context) {
    try {
      std::rethrow_exception(context.exception);
    } catch (const std::runtime_error& error) {
      reported = error.what();
    }
    after.set();
  });
  loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("from the handler"); });
  loop.run_until_complete([&]() -> aio::Task<void> {
    ::raise(SIGUSR1);
    co_await expect_set(after);
  }());
  EXPECT_EQ(reported, "from the handler");
}

TEST_P(AioSignals, AHandlerKeepsARunWaitingForTheSignalFromDeadlock) {
  aio::EventLoop loop(options());
  aio::Event stopping;
  loop.add_signal_handler(SIGUSR1, [&] { stopping.set(); });
  std::thread sender([&] {
    // The loop waits on the event alone; a deadlock report would end it.
    ::kill(::getpid(), SIGUSR1);
  });
  loop.run_until_complete(expect_set(stopping));
  sender.join();
  ASSERT_TRUE(loop.remove_signal_handler(SIGUSR1));
  aio::Event never;
  EXPECT_THROW(loop.run_until_complete(wait_event(never)), weft::RuntimeError) << "no handler left: a deadlock";
}

TEST_P(AioSignals, EveryLoopThatHandlesASignalGetsIt) {
  aio::EventLoop first(options());
  aio::EventLoop second(options());
  aio::Event first_ran, second_ran;
  first.add_signal_handler(SIGUSR1, [&] { first_ran.set(); });
  second.add_signal_handler(SIGUSR1, [&] { second_ran.set(); });
  ::raise(SIGUSR1);
  first.run_until_complete(expect_set(first_ran));
  second.run_until_complete(expect_set(second_ran));
  // One loop letting go leaves the other's handler installed.
  ASSERT_TRUE(first.remove_signal_handler(SIGUSR1));
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  second_ran.clear();
  ::raise(SIGUSR1);
  second.run_until_complete(expect_set(second_ran));
  ASSERT_TRUE(second.remove_signal_handler(SIGUSR1));
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
}

TEST_P(AioSignals, LoopsOnTwoThreadsBothGetTheSignal) {
  aio::EventLoop here(options());
  aio::Event here_ran;
  here.add_signal_handler(SIGUSR2, [&] { here_ran.set(); });
  std::thread::id other_thread;
  std::promise<void> registered;
  std::thread other([&] {
    aio::EventLoop loop(options());
    aio::Event ran;
    loop.add_signal_handler(SIGUSR2, [&] {
      other_thread = std::this_thread::get_id();
      ran.set();
    });
    registered.set_value();
    loop.run_until_complete(expect_set(ran));
  });
  registered.get_future().wait();
  ::kill(::getpid(), SIGUSR2);
  here.run_until_complete(expect_set(here_ran));
  const std::thread::id expected = other.get_id();
  other.join();
  EXPECT_EQ(other_thread, expected);
}

TEST_P(AioSignals, AChildOfForkInheritsNoHandler) {
  aio::EventLoop loop(options());
  loop.add_signal_handler(SIGUSR1, [] {});
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The disposition from before weft's handler: SIG_IGN, so a raise is
    // harmless; then destroying the inherited registration touches nothing.
    const bool restored = disposition(SIGUSR1) == SIG_IGN;
    ::raise(SIGUSR1);
    ::_exit(restored ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN) << "the parent keeps its handler";
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}

WEFT_AIO_BOTH_BACKENDS(AioSignals);
