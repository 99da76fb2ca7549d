// weft::Thread: start/join rules, names and OS names, daemon, ident/native_id, lifetime.
#include <gtest/gtest.h>
#include <pthread.h>
#include <weft/threading.hpp>

#include <atomic>
#include <memory>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

// The calling thread's name as the OS knows it, read both ways Linux offers.
struct OsName {
  std::string pthread;
  std::string comm;
};

OsName os_name_of_this_thread() {
  char buf[64] = {};
  pthread_getname_np(pthread_self(), buf, sizeof buf);
  std::ifstream file("/proc/self/task/" + std::to_string(::gettid()) + "/comm");
  std::string comm;
  std::getline(file, comm);
  return {buf, comm};
}

int thread_number(const std::string& name) {
  std::smatch m;
  static const std::regex pattern("Thread-([1-9][0-9]*)");
  return std::regex_match(name, m, pattern) ? std::stoi(m[1]) : -1;
}

TEST(Thread, RunsTargetWithArguments) {
  std::atomic<int> seen{0};
  std::string text;
  weft::Thread t(
      [&](int a, std::string s, std::string& out) {
        out = s;
        seen = a;
      },
      42, std::string("hi"), std::ref(text));
  t.start();
  t.join();
  EXPECT_EQ(seen, 42);
  EXPECT_EQ(text, "hi");
}

TEST(Thread, TakesMoveOnlyTargetsAndArguments) {
  std::atomic<int> seen{0};
  weft::Thread t([&seen, own = std::make_unique<int>(2)](std::unique_ptr<int> arg) { seen = *own + *arg; },
                 std::make_unique<int>(40));
  t.start();
  t.join();
  EXPECT_EQ(seen, 42);
}

TEST(Thread, StartTwiceThrowsRuntimeError) {
  weft::Event release;
  weft::Thread t([&] { release.wait(kPatience); });
  t.start();
  EXPECT_THROW(t.start(), weft::RuntimeError);
  release.set();
  t.join();
  EXPECT_THROW(t.start(), weft::RuntimeError);
}

TEST(Thread, JoinBeforeStartThrowsRuntimeError) {
  weft::Thread t([] {});
  EXPECT_THROW(t.join(), weft::RuntimeError);
  EXPECT_THROW(t.join(kTick), weft::RuntimeError);
  EXPECT_THROW(t.handle().join(), weft::RuntimeError);
}

TEST(Thread, JoinSelfThrowsRuntimeError) {
  std::atomic<bool> threw{false};
  std::atomic<bool> threw_timed{false};
  weft::Thread t([&] {
    try {
      weft::current_thread().join();
    } catch (const weft::RuntimeError&) {
      threw = true;
    }
    try {
      weft::current_thread().join(kTick);
    } catch (const weft::RuntimeError&) {
      threw_timed = true;
    }
  });
  t.start();
  t.join();
  EXPECT_TRUE(threw);
  EXPECT_TRUE(threw_timed);
  EXPECT_THROW(weft::current_thread().join(), weft::RuntimeError);
}

TEST(Thread, JoinAfterEndReturnsAtOnceAndRepeats) {
  weft::Thread t([] {});
  t.start();
  t.join();
  t.join();
  EXPECT_TRUE(t.join(0ms));
}

TEST(Thread, SetDaemonBeforeStartOnlyOtherwiseRuntimeError) {
  weft::Event release;
  weft::Thread t([&] { release.wait(kPatience); });
  t.set_daemon(true);
  EXPECT_TRUE(t.daemon());
  t.set_daemon(false);
  EXPECT_FALSE(t.daemon());
  t.start();
  EXPECT_THROW(t.set_daemon(true), weft::RuntimeError);
  EXPECT_FALSE(t.daemon());
  release.set();
  t.join();
  EXPECT_THROW(t.set_daemon(true), weft::RuntimeError);
}

TEST(Thread, DefaultNamesAreThreadN) {
  weft::Thread a([] {});
  weft::Thread b([] {});
  const int na = thread_number(a.name());
  const int nb = thread_number(b.name());
  EXPECT_GT(na, 0) << a.name();
  EXPECT_GT(nb, na) << b.name();
}

TEST(Thread, OptionsGiveNameAndDaemon) {
  weft::Event release;
  weft::Thread t({.name = "worker", .daemon = true}, [&] { release.wait(kPatience); });
  EXPECT_EQ(t.name(), "worker");
  EXPECT_TRUE(t.daemon());
  t.start();
  release.set();
  t.join();
  weft::Thread plain({.name = "plain"}, [] {});
  EXPECT_FALSE(plain.daemon());
}

TEST(Thread, DaemonIsInheritedFromTheCreatingThread) {
  EXPECT_FALSE(weft::main_thread().daemon());
  EXPECT_FALSE(weft::Thread([] {}).daemon());
  std::atomic<bool> child_of_daemon{false};
  std::atomic<bool> child_of_plain{true};
  std::atomic<bool> overridden{true};
  weft::Thread daemon({.daemon = true}, [&] {
    child_of_daemon = weft::Thread([] {}).daemon();
    overridden = weft::Thread({.daemon = false}, [] {}).daemon();
  });
  weft::Thread plain([&] { child_of_plain = weft::Thread([] {}).daemon(); });
  daemon.start();
  plain.start();
  daemon.join();
  plain.join();
  EXPECT_TRUE(child_of_daemon);
  EXPECT_FALSE(overridden);
  EXPECT_FALSE(child_of_plain);
}

TEST(Thread, OsNameIsTheThreadName) {
  OsName seen;
  weft::Thread t({.name = "worker-1"}, [&] { seen = os_name_of_this_thread(); });
  t.start();
  t.join();
  EXPECT_EQ(seen.pthread, "worker-1");
  EXPECT_EQ(seen.comm, "worker-1");
}

TEST(Thread, OsNameIsTruncatedTo15Bytes) {
  OsName seen;
  const std::string name = "abcdefghijklmnopqrstuvwxyz";
  weft::Thread t({.name = name}, [&] { seen = os_name_of_this_thread(); });
  t.start();
  t.join();
  EXPECT_EQ(seen.pthread, "abcdefghijklmno");
  EXPECT_EQ(seen.comm, "abcdefghijklmno");
  EXPECT_EQ(t.name(), name);
}

TEST(Thread, OsNameIsTruncatedOnAUtf8Boundary) {
  OsName seen;
  const std::string name = "abcdefghijklmn\xC3\xA9xyz";  // the 15th byte starts a 2-byte 'é'
  weft::Thread t({.name = name}, [&] { seen = os_name_of_this_thread(); });
  t.start();
  t.join();
  EXPECT_EQ(seen.pthread, "abcdefghijklmn");
  EXPECT_EQ(t.name(), name);
}

TEST(Thread, SetNameFromInsideRenamesTheOsThread) {
  OsName seen;
  std::string name_inside;
  weft::Thread t({.name = "before"}, [&] {
    weft::current_thread().set_name("after");
    name_inside = weft::current_thread().name();
    seen = os_name_of_this_thread();
  });
  t.start();
  t.join();
  EXPECT_EQ(name_inside, "after");
  EXPECT_EQ(t.name(), "after");
  EXPECT_EQ(seen.pthread, "after");
}

TEST(Thread, SetNameBeforeStart) {
  OsName seen;
  weft::Thread t([&] { seen = os_name_of_this_thread(); });
  t.set_name("renamed");
  EXPECT_EQ(t.name(), "renamed");
  t.start();
  t.join();
  EXPECT_EQ(seen.pthread, "renamed");
}

TEST(Thread, IdentAndNativeIdMatchTheOsThread) {
  std::atomic<std::uint64_t> self_ident{0};
  std::atomic<std::int64_t> self_tid{0};
  std::optional<std::uint64_t> ident_inside;
  weft::Event release;
  weft::Thread t([&] {
    self_ident = static_cast<std::uint64_t>(pthread_self());
    self_tid = ::gettid();
    ident_inside = weft::current_thread().ident();
    release.wait(kPatience);
  });
  EXPECT_EQ(t.ident(), std::nullopt);
  EXPECT_EQ(t.native_id(), std::nullopt);
  t.start();
  ASSERT_TRUE(t.native_id().has_value());
  ASSERT_TRUE(t.ident().has_value());
  release.set();
  t.join();
  EXPECT_EQ(*t.ident(), self_ident.load());
  EXPECT_EQ(*t.native_id(), self_tid.load());
  EXPECT_EQ(ident_inside, t.ident());
  EXPECT_NE(*t.native_id(), static_cast<std::int64_t>(::gettid()));
}

TEST(Thread, IsAliveFromStartUntilTheTargetReturns) {
  weft::Event release;
  weft::Thread t([&] { release.wait(kPatience); });
  EXPECT_FALSE(t.is_alive());
  t.start();
  EXPECT_TRUE(t.is_alive());
  release.set();
  t.join();
  EXPECT_FALSE(t.is_alive());
}

TEST(Thread, TimedJoinReturnsFalseWhileTheThreadIsBlocked) {
  weft::Event release;
  weft::Thread t([&] { release.wait(kPatience); });
  t.start();
  EXPECT_FALSE(t.join(0ms));
  EXPECT_FALSE(t.join(-1ms)) << "a negative timeout counts as 0, as in Python";
  Stopwatch sw;
  EXPECT_FALSE(t.join(kTick));
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(t.is_alive());
  release.set();
  EXPECT_TRUE(t.join(kPatience));
  EXPECT_FALSE(t.is_alive());
}

class Worker : public weft::Thread {
 public:
  explicit Worker(std::atomic<int>& out) : weft::Thread({.name = "subclass"}), out_(out) {}
  ~Worker() override { join(); }
  void run() override { out_ = static_cast<int>(weft::current_thread().name().size()); }

 private:
  std::atomic<int>& out_;
};

TEST(Thread, SubclassOverridesRun) {
  std::atomic<int> out{0};
  Worker w(out);
  w.start();
  w.join();
  EXPECT_EQ(out, 8);
}

TEST(Thread, DestroyingANonDaemonThreadJoinsIt) {
  std::atomic<bool> finished{false};
  {
    weft::Event never;
    weft::Thread t([&] {
      never.wait(kTick);
      finished = true;
    });
    t.start();
  }
  EXPECT_TRUE(finished);
}

TEST(Thread, DestroyingADaemonThreadDoesNotWaitForIt) {
  weft::Event release;
  std::optional<weft::ThreadHandle> handle;
  Stopwatch sw;
  {
    weft::Thread t({.daemon = true}, [&] { release.wait(kPatience); });
    t.start();
    handle = t.handle();
  }
  EXPECT_LT(sw.elapsed(), kPatience / 2);
  EXPECT_TRUE(handle->is_alive());
  release.set();
  EXPECT_TRUE(handle->join(kPatience));
  EXPECT_FALSE(handle->is_alive());
}

// At exit() a non-daemon thread still running is joined (its last words reach stderr); a daemon
// thread is not waited for.
TEST(ThreadAtExitDeathTest, NonDaemonThreadsAreJoinedAtExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        static weft::Event never;
        static weft::Thread* worker = new weft::Thread([] {
          never.wait(kTick);
          std::fputs("worker finished\n", stderr);
        });
        worker->start();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "worker finished");
}

TEST(ThreadAtExitDeathTest, DaemonThreadsDoNotDelayExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Stopwatch sw;
  EXPECT_EXIT(
      {
        static weft::Event never;
        static weft::Thread* worker =
            new weft::Thread({.daemon = true}, [] { never.wait(kPatience * 6); });
        worker->start();
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_LT(sw.elapsed(), kPatience * 3);
}

TEST(Thread, DestroyingAnUnstartedThreadIsFine) {
  weft::Thread t([] {});
  EXPECT_FALSE(t.is_alive());
}

}  // namespace
