// gevent.signal_handler: a signal runs its handler in a new greenlet of the
// hub's thread, outside signal context; arguments, several handlers of one
// signal, cancel and RAII, errors, a failing handler. SIGUSR1 and SIGUSR2
// only, ignored around each test so that a stray one harms nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "io/signal_state.hpp"
#include "weft/errors.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/signal.hpp"
#include "weft/green/sleep.hpp"

namespace green = weft::green;
using namespace std::chrono_literals;

namespace {

class GreenSignal : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int sig : {SIGUSR1, SIGUSR2}) ::signal(sig, SIG_IGN);
  }
  void TearDown() override {
    for (int sig : {SIGUSR1, SIGUSR2}) ::signal(sig, SIG_DFL);
  }
};

using Handler = weft::test::SignalHandler;
using weft::test::blocked_here;
using weft::test::disposition;

}  // namespace

TEST_F(GreenSignal, RaiseRunsTheHandlerInANewGreenletOutsideSignalContext) {
  green::Event ran;
  bool raised = false;
  bool ran_after_raise = false;
  bool blocked = true;
  bool in_main_or_hub = true;
  std::thread::id thread;
  std::string text;
  auto handler = green::signal_handler(SIGUSR1, [&] {
    ran_after_raise = raised;
    blocked = blocked_here(SIGUSR1);
    const green::greenlet self = green::getcurrent();
    in_main_or_hub = self == green::Hub::current().hub_greenlet() || self.is_main();
    thread = std::this_thread::get_id();
    green::sleep(0s);  // a cooperative block: only a greenlet can
    text = std::string(4096, 'x');
    ran.set();
  });
  EXPECT_EQ(handler.signum(), SIGUSR1);
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  raised = true;
  ASSERT_TRUE(ran.wait(10s));
  EXPECT_TRUE(ran_after_raise) << "ran inside raise(): in signal context";
  EXPECT_FALSE(blocked);
  EXPECT_FALSE(in_main_or_hub);
  EXPECT_EQ(thread, std::this_thread::get_id());
  EXPECT_EQ(text.size(), 4096u);
}

TEST_F(GreenSignal, TheHandlerGetsItsArguments) {
  green::Event ran;
  std::vector<int> got;
  auto handler = green::signal_handler(
      SIGUSR2,
      [&](int a, const std::string& b) {
        got.push_back(a);
        got.push_back(static_cast<int>(b.size()));
        ran.set();
      },
      7, std::string("three"));
  ASSERT_EQ(::kill(::getpid(), SIGUSR2), 0);
  ASSERT_TRUE(ran.wait(10s));
  EXPECT_EQ(got, (std::vector<int>{7, 5}));
}

TEST_F(GreenSignal, EveryHandlerOfTheSignalRuns) {
  green::Event first_ran, second_ran;
  auto first = green::signal_handler(SIGUSR1, [&] { first_ran.set(); });
  auto second = green::signal_handler(SIGUSR1, [&] { second_ran.set(); });
  ::raise(SIGUSR1);
  ASSERT_TRUE(first_ran.wait(10s));
  ASSERT_TRUE(second_ran.wait(10s));
  // Cancelling one leaves the other.
  first.cancel();
  EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  second_ran.clear();
  ::raise(SIGUSR1);
  ASSERT_TRUE(second_ran.wait(10s));
}

TEST_F(GreenSignal, CancelStopsTheHandlerAndPutsTheDispositionBack) {
  green::Event ran;
  int count = 0;
  auto handler = green::signal_handler(SIGUSR1, [&] { ++count; });
  auto witness = green::signal_handler(SIGUSR2, [&] { ran.set(); });
  EXPECT_FALSE(handler.cancelled());
  handler.cancel();
  EXPECT_TRUE(handler.cancelled());
  handler.cancel();
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
  ::raise(SIGUSR1);  // ignored again
  ::raise(SIGUSR2);
  ASSERT_TRUE(ran.wait(10s));
  green::sleep(0s);
  EXPECT_EQ(count, 0);
}

TEST_F(GreenSignal, DestroyingOrMovingOverTheHandlerCancelsIt) {
  {
    auto handler = green::signal_handler(SIGUSR1, [] {});
    EXPECT_NE(disposition(SIGUSR1), SIG_IGN);
  }
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);

  green::Event ran;
  auto handler = green::signal_handler(SIGUSR1, [] {});
  handler = green::signal_handler(SIGUSR2, [&] { ran.set(); });
  EXPECT_EQ(disposition(SIGUSR1), SIG_IGN);
  EXPECT_EQ(handler.signum(), SIGUSR2);
  green::SignalHandler moved = std::move(handler);
  ::raise(SIGUSR2);
  ASSERT_TRUE(ran.wait(10s));
}

TEST_F(GreenSignal, InvalidAndUncatchableSignalsThrow) {
  for (int sig : {0, -1, 32, 65}) EXPECT_THROW((void)green::signal_handler(sig, [] {}), weft::ValueError) << sig;
  for (int sig : {SIGKILL, SIGSTOP}) {
    try {
      (void)green::signal_handler(sig, [] {});
      FAIL() << sig;
    } catch (const weft::RuntimeError& error) {
      EXPECT_EQ(std::string(error.what()), "sig " + std::to_string(sig) + " cannot be caught");
    }
  }
}

TEST_F(GreenSignal, AFailingHandlerEndsOnlyItsGreenlet) {
  green::Event failing, ran;
  int calls = 0;
  auto handler = green::signal_handler(SIGUSR1, [&] {
    if (++calls == 1) {
      failing.set();
      throw std::runtime_error("handler failed");
    }
    ran.set();
  });
  testing::internal::CaptureStderr();
  ::raise(SIGUSR1);
  const bool failed = failing.wait(10s);
  green::sleep(0s);  // the failed greenlet has ended
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(failed);
  EXPECT_NE(err.find("handler failed"), std::string::npos) << err;
  ::raise(SIGUSR1);
  ASSERT_TRUE(ran.wait(10s));
  EXPECT_EQ(calls, 2);
}
