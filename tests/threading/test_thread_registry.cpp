// current_thread (weft and Dummy-N), main_thread, active_count, enumerate, handle lifetime.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>
#include <weft/threading.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"

namespace {

using namespace weft::test;

bool listed(const weft::ThreadHandle& handle) {
  const auto all = weft::enumerate();
  return std::find(all.begin(), all.end(), handle) != all.end();
}

TEST(Registry, MainThreadIsTheTestThread) {
  const weft::ThreadHandle main = weft::main_thread();
  EXPECT_EQ(main, weft::current_thread());
  EXPECT_EQ(main.name(), "MainThread");
  EXPECT_FALSE(main.daemon());
  EXPECT_TRUE(main.is_alive());
  EXPECT_EQ(main.ident(), static_cast<std::uint64_t>(pthread_self()));
  EXPECT_EQ(main.native_id(), static_cast<std::int64_t>(::gettid()));
  EXPECT_TRUE(listed(main));
}

TEST(Registry, MainThreadSeenFromAnotherThread) {
  std::optional<weft::ThreadHandle> seen;
  weft::Thread t([&] { seen = weft::main_thread(); });
  t.start();
  t.join();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*seen, weft::current_thread());
}

TEST(Registry, CurrentThreadInsideAWeftThreadIsItsHandle) {
  std::optional<weft::ThreadHandle> seen;
  std::string name;
  weft::Thread t({.name = "worker"}, [&] {
    seen = weft::current_thread();
    name = seen->name();
  });
  t.start();
  t.join();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*seen, t.handle());
  EXPECT_NE(*seen, weft::main_thread());
  EXPECT_EQ(name, "worker");
}

TEST(Registry, ForeignThreadIsADummyDaemon) {
  std::optional<weft::ThreadHandle> seen;
  std::string name;
  bool daemon = false;
  bool alive = false;
  bool same_twice = false;
  bool in_enumerate = false;
  std::optional<std::uint64_t> ident;
  std::uint64_t self = 0;
  const std::size_t before = weft::active_count();
  std::size_t during = 0;
  std::thread foreign([&] {
    seen = weft::current_thread();
    name = seen->name();
    daemon = seen->daemon();
    alive = seen->is_alive();
    same_twice = weft::current_thread() == *seen;
    in_enumerate = listed(*seen);
    ident = seen->ident();
    self = static_cast<std::uint64_t>(pthread_self());
    during = weft::active_count();
  });
  foreign.join();
  EXPECT_TRUE(std::regex_match(name, std::regex("Dummy-[1-9][0-9]*"))) << name;
  EXPECT_TRUE(daemon);
  EXPECT_TRUE(alive);
  EXPECT_TRUE(same_twice);
  EXPECT_TRUE(in_enumerate);
  EXPECT_EQ(ident, self);
  EXPECT_EQ(during, before + 1);
  EXPECT_FALSE(seen->is_alive());
  EXPECT_FALSE(listed(*seen));
  EXPECT_EQ(weft::active_count(), before);
}

// Asks for current_thread() from its destructor.
struct AsksAtExit {
  std::optional<weft::ThreadHandle>* seen = nullptr;
  ~AsksAtExit() {
    if (seen != nullptr) *seen = weft::current_thread();
  }
};

// A local<T> value a foreign thread touched before its first current_thread() is destroyed
// after that thread's own state: current_thread() from its destructor still answers, with a
// Dummy thread that is no longer alive.
TEST(Registry, CurrentThreadWorksAfterAForeignThreadsStateIsGone) {
  weft::local<AsksAtExit> asks;
  std::optional<weft::ThreadHandle> seen;
  const std::size_t before = weft::active_count();
  for (int i = 0; i < 100; ++i) {
    std::thread foreign([&] {
      asks.get().seen = &seen;
      (void)weft::current_thread();
    });
    foreign.join();
  }
  ASSERT_TRUE(seen.has_value());
  EXPECT_TRUE(std::regex_match(seen->name(), std::regex("Dummy-[1-9][0-9]*"))) << seen->name();
  EXPECT_TRUE(seen->daemon());
  EXPECT_FALSE(seen->is_alive());
  EXPECT_FALSE(listed(*seen));
  EXPECT_EQ(weft::active_count(), before);
}

TEST(Registry, ActiveCountAndEnumerateFollowStartedThreads) {
  const std::size_t before = weft::active_count();
  EXPECT_EQ(weft::enumerate().size(), before);
  weft::Event release;
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int i = 0; i < 3; ++i)
    threads.push_back(std::make_unique<weft::Thread>([&] { release.wait(kPatience); }));
  EXPECT_EQ(weft::active_count(), before);
  EXPECT_FALSE(listed(threads[0]->handle()));
  for (auto& t : threads) t->start();
  EXPECT_EQ(weft::active_count(), before + 3);
  const auto all = weft::enumerate();
  EXPECT_EQ(all.size(), before + 3);
  for (auto& t : threads) EXPECT_NE(std::find(all.begin(), all.end(), t->handle()), all.end());
  EXPECT_NE(std::find(all.begin(), all.end(), weft::main_thread()), all.end());
  release.set();
  for (auto& t : threads) t->join();
  EXPECT_EQ(weft::active_count(), before);
  for (auto& t : threads) EXPECT_FALSE(listed(t->handle()));
}

TEST(Registry, HandleOutlivesItsThreadObject) {
  std::optional<weft::ThreadHandle> handle;
  {
    weft::Thread t({.name = "short-lived"}, [] {});
    handle = t.handle();
    t.start();
  }
  EXPECT_EQ(handle->name(), "short-lived");
  EXPECT_FALSE(handle->is_alive());
  EXPECT_TRUE(handle->ident().has_value());
  handle->join();
  EXPECT_TRUE(handle->join(0ms));
}

TEST(Registry, RenamingThroughAHandleIsSeenEverywhere) {
  weft::Event release;
  std::string name_inside;
  weft::Thread t({.name = "old"}, [&] {
    release.wait(kPatience);
    name_inside = weft::current_thread().name();
  });
  t.start();
  weft::ThreadHandle handle = t.handle();
  handle.set_name("new");
  EXPECT_EQ(t.name(), "new");
  release.set();
  t.join();
  EXPECT_EQ(name_inside, "new");
}

// The status a forked child leaves with. The handler below, registered before weft's exit-time
// join of non-daemon threads, runs after it and ends the child there: a leak checker running
// later would count what the parent's vanished threads held.
int g_child_status = -1;
const bool g_child_exit_registered = [] {
  std::atexit([] {
    if (g_child_status >= 0) ::_exit(g_child_status);
  });
  return true;
}();

// Forks here and runs child() in the child, which then leaves through
// std::exit and so through the exit-time join of non-daemon threads;
// child() returns a bit set of failed checks. Returns the child's exit
// status, or -1 if it did not end within kPatience (it is then killed).
template <class F>
int exit_status_of_forked(F child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    g_child_status = child();
    std::exit(g_child_status);
  }
  int status = 0;
  if (!eventually([&] { return ::waitpid(pid, &status, WNOHANG) == pid; })) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Python's threading._after_fork: in the child only the forking thread is
// left, and it is the main thread.
int checks_after_fork(const weft::Thread& other, const weft::ThreadHandle& forking) {
  int failed = 0;
  if (other.is_alive()) failed |= 1;
  if (!other.join(kPatience)) failed |= 2;
  if (weft::active_count() != 1) failed |= 4;
  if (weft::main_thread() != weft::current_thread() || weft::current_thread() != forking) failed |= 8;
  if (weft::current_thread().native_id() != ::getpid()) failed |= 16;
#if !defined(__SANITIZE_THREAD__)  // ThreadSanitizer ends a child of a threaded parent that starts one
  weft::Thread fresh([] {});
  fresh.start();
  if (!fresh.join(kPatience) || weft::active_count() != 1) failed |= 32;
#endif
  return failed;
}

TEST(Registry, AForkChildKeepsOnlyTheForkingThreadAndExits) {
  weft::Event stop;
  weft::Thread other([&] { stop.wait(kPatience); });  // not a daemon: exit() would join it
  other.start();
  const int status =
      exit_status_of_forked([&] { return checks_after_fork(other, weft::current_thread()); });
  stop.set();
  other.join();
  EXPECT_EQ(status, 0);
}

TEST(Registry, AChildForkedByAnotherThreadMakesItTheMainThread) {
  weft::Event stop;
  weft::Thread other([&] { stop.wait(kPatience); });
  other.start();
  int status = -1;
  std::string main_name;
  weft::Thread forker({.name = "forker"}, [&] {
    status = exit_status_of_forked([&] {
      int failed = checks_after_fork(other, weft::current_thread());
      if (weft::main_thread().name() != "forker") failed |= 64;
      return failed;
    });
  });
  forker.start();
  forker.join();
  stop.set();
  other.join();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(weft::main_thread(), weft::current_thread());
}

// A thread renaming itself while another forks: the child must not inherit
// the names' lock held by a thread it does not have.
TEST(Registry, AChildReadsNamesWhileAnotherThreadWasRenamingAtTheFork) {
  std::atomic<bool> stop{false};
  std::atomic<long> renames{0};
  weft::Thread renamer({.name = "renamer"}, [&] {
    for (long i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      weft::current_thread().set_name(i % 2 == 0 ? "renamer-even" : "renamer-odd");
      renames.fetch_add(1, std::memory_order_relaxed);
    }
  });
  renamer.start();
  ASSERT_TRUE(eventually([&] { return renames.load(std::memory_order_relaxed) > 0; }));
  for (int fork_number = 0; fork_number < 20; ++fork_number) {
    const int status = exit_status_of_forked([&] { return renamer.name().rfind("renamer-", 0) == 0 ? 0 : 1; });
    ASSERT_EQ(status, 0) << "fork " << fork_number;
  }
  stop.store(true, std::memory_order_relaxed);
  renamer.join();
}

}  // namespace
