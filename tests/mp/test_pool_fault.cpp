// mp::Pool under failure: a worker that dies fails exactly the task it
// held, is replaced, and every other task completes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fstream>
#include <future>
#include <iterator>
#include <new>
#include <random>
#include <string>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include "mp/pool_support.hpp"
#include "weft/futures/errors.hpp"
#include "weft/mp/pool.hpp"
#include "weft/mp/remote_error.hpp"

namespace {

using namespace pool_test;
using weft::mp::AsyncResult;
using weft::mp::Pool;
using weft::mp::PoolOptions;
using weft::mp::WorkerLostError;
using weft::futures::BrokenProcessPool;

struct Death {
  int how;
  int signal;
};

// AddressSanitizer turns a worker's SIGSEGV into exit code 1.
bool sanitizer_catches(int signal) {
#if defined(__SANITIZE_ADDRESS__)
  return signal == SIGSEGV;
#else
  return signal < 0;
#endif
}

class PoolWorkerDeath : public testing::TestWithParam<Death> {};

TEST_P(PoolWorkerDeath, FailsExactlyTheTaskItHeld) {
  Pool pool(2);
  std::vector<AsyncResult<int>> results;
  for (int i = 0; i < 60; ++i) results.push_back(pool.apply_async(die_at, std::tuple{i, 17, GetParam().how}));
  for (int i = 0; i < 60; ++i) {
    if (i != 17) {
      EXPECT_EQ(results[i].get(generous), i);
      continue;
    }
    try {
      results[i].get(generous);
      FAIL() << "no exception";
    } catch (const WorkerLostError& error) {
      EXPECT_GT(error.pid(), 0);
      if (sanitizer_catches(GetParam().signal)) {
        EXPECT_NE(error.exitcode(), 0);
        continue;
      }
      EXPECT_EQ(error.signal(), GetParam().signal);
      EXPECT_EQ(error.exitcode(), -GetParam().signal);
      const std::string what = error.what();
      EXPECT_NE(what.find(std::to_string(error.pid())), std::string::npos) << what;
      EXPECT_NE(what.find("signal " + std::to_string(GetParam().signal)), std::string::npos) << what;
    }
  }
  EXPECT_EQ(pool.map(square, std::vector<int>{1, 2, 3}), (std::vector<int>{1, 4, 9}));
}

INSTANTIATE_TEST_SUITE_P(Signals, PoolWorkerDeath,
                         testing::Values(Death{0, SIGKILL}, Death{1, SIGABRT}, Death{2, SIGSEGV}));

TEST(PoolFault, DeathInAChunkFailsTheWholeChunkOnly) {
  Pool pool(2);
  auto results = pool.imap(
      +[](int x) { return die_at(x, 5, 0); }, std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8}, 3);
  for (int i = 0; i < 9; ++i) {
    if (i >= 3 && i < 6) {
      EXPECT_THROW(results.next(generous), WorkerLostError);
    } else {
      EXPECT_EQ(results.next(generous), i);
    }
  }
}

// The fault test: 10,000 tasks, workers SIGKILLed at random during
// the run. Every task ends exactly once, with its result or WorkerLostError.
TEST(PoolFault, RandomKillsLoseOnlyTheTasksHeld) {
  constexpr int tasks = 10000;
  constexpr int kills = 20;
  Pool pool(2);
  std::atomic<int> latest_pid{0};
  std::vector<std::atomic<int>> endings(tasks);
  std::vector<AsyncResult<std::pair<long, int>>> results;
  results.reserve(tasks);
  for (int i = 0; i < tasks; ++i) {
    results.push_back(pool.apply_async(
        busy_square, std::tuple{i, 50},
        [&latest_pid, &endings, i](const std::pair<long, int>& result) {
          latest_pid.store(result.second);
          ++endings[i];
        },
        [&endings, i](std::exception_ptr) { ++endings[i]; }));
  }
  kill_random_workers(latest_pid, kills, 12345);
  int lost = 0;
  for (int i = 0; i < tasks; ++i) {
    try {
      EXPECT_EQ(results[i].get(generous).first, static_cast<long>(i) * i);
    } catch (const WorkerLostError& error) {
      EXPECT_EQ(error.signal(), SIGKILL);
      ++lost;
    }
  }
  for (int i = 0; i < tasks; ++i) ASSERT_EQ(endings[i].load(), 1) << "task " << i;
  RecordProperty("lost", lost);
  EXPECT_LE(lost, kills);
  EXPECT_EQ(pool.apply(square, std::tuple{12}), 144);
  EXPECT_EQ(pool.map(square, std::vector<int>(100, 3)), std::vector<int>(100, 9));
}

// Lowers this process's soft limit on open descriptors while it lives.
class DescriptorLimit {
 public:
  explicit DescriptorLimit(rlim_t limit) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = limit;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
  }
  ~DescriptorLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  DescriptorLimit(const DescriptorLimit&) = delete;
  DescriptorLimit& operator=(const DescriptorLimit&) = delete;

 private:
  rlimit saved_{};
};

// A worker that dies and cannot be replaced (no descriptor for the new
// worker's connection) breaks the pool instead of leaving it accepting
// tasks that nothing runs.
TEST(PoolFault, AWorkerThatCannotBeReplacedBreaksThePool) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizers' runtime needs descriptors of its own (UBSan's vptr check opens "
                  "a pipe), which the lowered limit denies it";
#endif
  Pool pool(1);
  ASSERT_EQ(pool.apply(square, std::tuple{3}), 9);
  {
    const DescriptorLimit no_new_descriptors(3);
    auto dying = pool.apply_async(die_at, std::tuple{0, 0, 0});
    auto queued = pool.apply_async(square, std::tuple{4});
    EXPECT_THROW(dying.get(generous), WorkerLostError);
    try {
      queued.get(generous);
      ADD_FAILURE() << "no exception";
    } catch (const BrokenProcessPool& error) {
      EXPECT_NE(std::string(error.what()).find("Too many open files"), std::string::npos) << error.what();
    }
  }
  EXPECT_THROW(pool.apply_async(square, std::tuple{5}), BrokenProcessPool);
  EXPECT_THROW(pool.apply(square, std::tuple{5}), BrokenProcessPool);
}

// What the workers tell the test: in a shared anonymous mapping made before
// a pool forks them.
struct Shared {
  std::atomic<int> runs{0};
  std::atomic<int> pid{0};
};

Shared& shared() {
  static Shared* const mapped = [] {
    void* memory = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::system_error(errno, std::generic_category(), "mmap");
    return new (memory) Shared;
  }();
  return *mapped;
}

// Polls `done` until it holds; false if it still does not after `generous`.
template <class Predicate>
bool eventually(Predicate done) {
  const auto until = std::chrono::steady_clock::now() + generous;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Whether process `pid` sleeps in a system call (state S in /proc/<pid>/stat).
bool asleep(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t name_end = stat.rfind(')');
  return name_end != std::string::npos && name_end + 2 < stat.size() && stat[name_end + 2] == 'S';
}

// Far more than a socket holds, so the worker blocks sending it.
std::string big_result(int) {
  shared().pid.store(static_cast<int>(::getpid()));
  ++shared().runs;
  return std::string(8 << 20, 'x');
}

// A worker killed after its task returned, while the result is on its way
// (the pool's thread, held in a callback, reads none of it), fails that task
// with WorkerLostError: the task is not run a second time.
TEST(PoolFault, AWorkerKilledWhileSendingAResultFailsThatTaskWithoutRunningItAgain) {
  shared().runs = 0;
  Pool pool(1);
  // The pool's thread waits in a first callback until both tasks are
  // queued, so that it sends them to the worker together: the big one must
  // reach the worker before the pool's thread is held in the second's.
  std::promise<void> entered;
  std::promise<void> queue;
  std::shared_future<void> queued = queue.get_future().share();
  auto first = pool.apply_async(square, std::tuple{1}, [&entered, queued](const int&) {
    entered.set_value();
    queued.wait_for(generous);
  });
  ASSERT_EQ(entered.get_future().wait_for(generous), std::future_status::ready);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto held = pool.apply_async(square, std::tuple{2}, [released](const int&) { released.wait_for(generous); });
  auto big = pool.apply_async(big_result, std::tuple{0});
  queue.set_value();
  ASSERT_TRUE(eventually([] { return shared().runs.load() == 1; }));
  const int pid = shared().pid.load();
  ASSERT_TRUE(eventually([pid] { return asleep(pid); }));  // blocked sending the result
  ::kill(pid, SIGKILL);
  release.set_value();
  EXPECT_EQ(held.get(generous), 4);
  try {
    big.get(generous);
    ADD_FAILURE() << "no exception";
  } catch (const WorkerLostError& error) {
    EXPECT_EQ(error.signal(), SIGKILL);
    EXPECT_NE(std::string(error.what()).find("sending its result"), std::string::npos) << error.what();
  }
  EXPECT_EQ(shared().runs.load(), 1);
  EXPECT_EQ(pool.apply(square, std::tuple{3}), 9);
}

// The first three times, waits in the initializer until it is killed.
void initialize_until_killed(int) {
  shared().pid.store(static_cast<int>(::getpid()));
  if (++shared().runs <= 3) {
    for (;;) ::pause();
  }
}

// Workers killed from outside (SIGKILL: an operator, the OOM killer) while a
// healthy initializer runs are replaced like any other; the pool does not
// break, as it does for an initializer that crashes.
TEST(PoolFault, WorkersKilledInAHealthyInitializerAreReplaced) {
  shared().runs = 0;
  Pool pool(PoolOptions{.processes = 1}, initialize_until_killed, 0);
  auto pending = pool.apply_async(square, std::tuple{5});
  for (int kill = 1; kill <= 3; ++kill) {
    ASSERT_TRUE(eventually([kill] { return shared().runs.load() == kill; }));
    ::kill(shared().pid.load(), SIGKILL);
  }
  EXPECT_EQ(pending.get(generous), 25);
  EXPECT_EQ(pool.apply(square, std::tuple{6}), 36);
  EXPECT_EQ(shared().runs.load(), 4);
}

}  // namespace
