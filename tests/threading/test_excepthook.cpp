// weft::excepthook: escaping exceptions reach the hook, hooks swap, the default hook prints.
#include <gtest/gtest.h>
#include <weft/detail/exception_text.hpp>
#include <weft/threading.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// What a hook saw, copied out of ExceptHookArgs.
struct Seen {
  std::string type;
  std::string what;
  std::string thread_name;
  bool on_that_thread = false;
};

class ExceptHook : public ::testing::Test {
 protected:
  void SetUp() override {
    previous_ = weft::set_excepthook([this](const weft::ExceptHookArgs& args) { record(args); });
  }
  void TearDown() override { weft::set_excepthook(previous_); }

  std::vector<Seen> seen() {
    std::lock_guard lock(mutex_);
    return seen_;
  }

 private:
  void record(const weft::ExceptHookArgs& args) {
    Seen s{args.exc_type, weft::detail::exception_text(args.exc_value), args.thread.name(),
           args.thread == weft::current_thread()};
    std::lock_guard lock(mutex_);
    seen_.push_back(s);
  }

  weft::ExceptHook previous_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

TEST_F(ExceptHook, ReceivesAnExceptionEscapingTheTarget) {
  weft::Thread t({.name = "boom"}, [] { throw std::runtime_error("kaboom"); });
  t.start();
  t.join();
  EXPECT_FALSE(t.is_alive());
  const auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, "std::runtime_error");
  EXPECT_EQ(seen[0].what, "kaboom");
  EXPECT_EQ(seen[0].thread_name, "boom");
  EXPECT_TRUE(seen[0].on_that_thread);
}

TEST_F(ExceptHook, ReceivesAnExceptionEscapingAnOverriddenRun) {
  struct Failing : weft::Thread {
    Failing() : weft::Thread({.name = "failing-run"}) {}
    ~Failing() override { join(); }
    void run() override { throw weft::ValueError("bad"); }
  };
  Failing t;
  t.start();
  t.join();
  const auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, "weft::ValueError");
  EXPECT_EQ(seen[0].thread_name, "failing-run");
}

TEST_F(ExceptHook, ReceivesANonStandardException) {
  weft::Thread t([] { throw 42; });
  t.start();
  t.join();
  const auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, "int");
}

TEST_F(ExceptHook, ReceivesAnExceptionEscapingATimerFunction) {
  weft::Timer timer(std::chrono::milliseconds(0), [] { throw std::out_of_range("late"); });
  timer.start();
  timer.join();
  const auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].type, "std::out_of_range");
  EXPECT_EQ(seen[0].what, "late");
}

TEST_F(ExceptHook, TheProcessAndOtherThreadsCarryOn) {
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 4; ++i)
    threads.push_back(std::make_unique<weft::Thread>([] { throw std::logic_error("x"); }));
  std::atomic<bool> healthy_ran{false};
  weft::Thread healthy([&] { healthy_ran = true; });
  for (auto& t : threads) t->start();
  healthy.start();
  for (auto& t : threads) t->join();
  healthy.join();
  EXPECT_TRUE(healthy_ran);
  EXPECT_EQ(seen().size(), 4u);
}

TEST_F(ExceptHook, SetExcepthookReturnsThePreviousHook) {
  std::atomic<int> first_calls{0};
  weft::set_excepthook([&](const weft::ExceptHookArgs&) { ++first_calls; });
  const weft::ExceptHook first = weft::set_excepthook([](const weft::ExceptHookArgs&) {});
  ASSERT_TRUE(first);
  first(weft::ExceptHookArgs{std::make_exception_ptr(1), "int", weft::current_thread()});
  EXPECT_EQ(first_calls, 1);
}

TEST_F(ExceptHook, ExcepthookCallsTheInstalledHook) {
  weft::excepthook(weft::ExceptHookArgs{std::make_exception_ptr(std::runtime_error("direct")),
                                        "std::runtime_error", weft::current_thread()});
  const auto seen = this->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].what, "direct");
  EXPECT_EQ(seen[0].thread_name, "MainThread");
}

TEST_F(ExceptHook, DefaultHookPrintsThreadNameTypeAndMessage) {
  testing::internal::CaptureStderr();
  weft::default_excepthook(weft::ExceptHookArgs{
      std::make_exception_ptr(std::runtime_error("went wrong")), "std::runtime_error",
      weft::current_thread()});
  const std::string text = testing::internal::GetCapturedStderr();
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Exception in thread MainThread:", text);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "std::runtime_error: went wrong", text);
}

TEST_F(ExceptHook, EmptyHookRestoresTheDefaultForEscapingExceptions) {
  weft::set_excepthook({});
  testing::internal::CaptureStderr();
  weft::Thread t({.name = "noisy"}, [] { throw weft::ValueError("bad value"); });
  t.start();
  t.join();
  const std::string text = testing::internal::GetCapturedStderr();
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Exception in thread noisy:", text);
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "weft::ValueError: bad value", text);
  EXPECT_TRUE(seen().empty());
}

}  // namespace
