// EventLoop::add_signal_handler / remove_signal_handler: a signal runs its
// callback on the loop's thread outside signal context, replace, remove,
// the errors Python raises, a closed loop, two loops, the disposition put
// back, a child of fork(), and a handler that another thread is inside —
// on both IO backends. SIGUSR1 and SIGUSR2 only, ignored around each test so
// that a stray one harms nothing.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <set>
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

std::set<int> open_fds() {
  std::set<int> fds;
  DIR* dir = ::opendir("/proc/self/fd");
  const int own = ::dirfd(dir);
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.' && std::stoi(entry->d_name) != own) fds.insert(std::stoi(entry->d_name));
  ::closedir(dir);
  return fds;
}

// The self-pipe of a loop's signal handlers: its ends, found among the
// descriptors that the loop's first add_signal_handler(sig) opened.
struct SelfPipe {
  int read_fd = -1;
  int write_fd = -1;
};

SelfPipe add_handler_and_find_pipe(aio::EventLoop& loop, int sig) {
  const std::set<int> before = open_fds();
  loop.add_signal_handler(sig, [] {});
  SelfPipe pipe;
  for (int fd : open_fds()) {
    if (before.count(fd) != 0) continue;
    const int mode = ::fcntl(fd, F_GETFL) & O_ACCMODE;
    (mode == O_WRONLY ? pipe.write_fd : pipe.read_fd) = fd;
  }
  return pipe;
}

// A thread held inside weft's sigaction handler: it sends itself SIGUSR1,
// whose handler writes to the self-pipe of a loop that handles SIGUSR1; the
// pipe is full and made blocking first, so the write waits until release()
// empties the pipe.
class HeldInHandler {
 public:
  explicit HeldInHandler(SelfPipe pipe) : pipe_(pipe) {
    const char filler[4096] = {};  // signal number 0: a byte the loop drops
    while (::write(pipe_.write_fd, filler, sizeof filler) > 0) {
    }
    while (::write(pipe_.write_fd, filler, 1) > 0) {
    }
    flags_ = ::fcntl(pipe_.write_fd, F_GETFL);
    ::fcntl(pipe_.write_fd, F_SETFL, flags_ & ~O_NONBLOCK);
    thread_ = std::thread([this] {
      tid_.store(static_cast<pid_t>(::syscall(SYS_gettid)));
      ::pthread_kill(::pthread_self(), SIGUSR1);
      done_.store(true);
    });
  }
  ~HeldInHandler() { release(); }

  // Waits (bounded) until the thread is blocked in the handler's write.
  bool held() const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (const pid_t tid = tid_.load(); tid != 0) {
        std::ifstream file("/proc/self/task/" + std::to_string(tid) + "/syscall");
        long number = -1;
        std::string first_argument;
        file >> number >> first_argument;
        char expected[32];
        std::snprintf(expected, sizeof expected, "0x%x", pipe_.write_fd);
        if (number == SYS_write && first_argument == expected) return true;
      }
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  // Empties the pipe until the handler's write is done. Idempotent.
  void release() {
    if (!thread_.joinable()) return;
    char buffer[4096];
    while (!done_.load()) {
      [[maybe_unused]] const ssize_t n = ::read(pipe_.read_fd, buffer, sizeof buffer);
      std::this_thread::yield();
    }
    thread_.join();
    ::fcntl(pipe_.write_fd, F_SETFL, flags_);
  }

 private:
  SelfPipe pipe_;
  int flags_ = 0;
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

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

TEST_P(AioSignals, AChildOfForkCannotAddToAnInheritedLoop) {
  aio::EventLoop loop(options());
  loop.add_signal_handler(SIGUSR1, [] {});
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int failed = 0;
    for (int sig : {SIGUSR2, SIGUSR1}) {
      try {
        loop.add_signal_handler(sig, [] {});
        failed = sig;
      } catch (const weft::RuntimeError&) {
      }
    }
    ::_exit(failed != 0 ? failed : disposition(SIGUSR2) == SIG_IGN ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: something was installed; else the signal add_signal_handler took";
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}

TEST_P(AioSignals, AChildForkedWhileAHandlerRanMayRemoveItsLastHandler) {
  aio::EventLoop loop(options());
  HeldInHandler handler(add_handler_and_find_pipe(loop, SIGUSR1));
  ASSERT_TRUE(handler.held());
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(10);  // ends a child that hangs
    aio::EventLoop fresh(options());
    fresh.add_signal_handler(SIGUSR2, [] {});
    ::_exit(fresh.remove_signal_handler(SIGUSR2) ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  handler.release();
  ASSERT_TRUE(WIFEXITED(status)) << "the child hung removing its handler (ended by signal "
                                 << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")";
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
}

TEST_P(AioSignals, RemovingWaitsOnlyForHandlersThatMayWriteToItsPipe) {
  aio::EventLoop held_loop(options());
  HeldInHandler handler(add_handler_and_find_pipe(held_loop, SIGUSR1));
  ASSERT_TRUE(handler.held());
  aio::EventLoop loop(options());
  loop.add_signal_handler(SIGUSR2, [] {});
  std::promise<void> removed;
  std::atomic<bool> timed_out{false};
  std::thread watchdog([&, removed = removed.get_future()] {
    if (removed.wait_for(10s) == std::future_status::ready) return;
    timed_out = true;
    handler.release();
  });
  EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
  removed.set_value();
  watchdog.join();
  EXPECT_FALSE(timed_out) << "the removal waited for a handler writing to another loop's pipe";
  handler.release();
  EXPECT_TRUE(held_loop.remove_signal_handler(SIGUSR1));
}

TEST_P(AioSignals, HandlersGoneBeforeTheFirstRunLeaveTheLoopFreeToRunOnAnotherThread) {
  aio::EventLoop loop(options());
  loop.add_signal_handler(SIGUSR1, [] {});
  ASSERT_TRUE(loop.remove_signal_handler(SIGUSR1));
  EXPECT_THROW(loop.add_signal_handler(SIGKILL, [] {}), weft::RuntimeError);
  std::string error;
  std::thread worker([&] {
    try {
      loop.run_until_complete(settle());
    } catch (const std::exception& thrown) {
      error = thrown.what();
    }
  });
  worker.join();
  EXPECT_EQ(error, "");
  EXPECT_FALSE(loop.io().alive()) << "the self-pipe's watch is gone";
}

WEFT_AIO_BOTH_BACKENDS(AioSignals);
