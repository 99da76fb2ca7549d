// asyncio and threads: to_thread, run_in_executor (thread and process
// pools), wrap_future, run_coroutine_threadsafe, call_soon_threadsafe from
// many threads, and several loops on several threads — on both IO backends.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <latch>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/threads.hpp"
#include "weft/asyncio.hpp"
#include "weft/futures/process_pool_executor.hpp"
#include "weft/futures/thread_pool_executor.hpp"
#include "weft/threading/event.hpp"

namespace aio = weft::aio;
namespace futures = weft::futures;
using namespace std::chrono_literals;
using weft::test::kPatience;
using weft::test::SleepProbe;

namespace {

class AioThreads : public ::testing::TestWithParam<weft::io::Backend> {
 protected:
  void SetUp() override { frames_at_start_ = aio::detail::live_frames(); }
  void TearDown() override { EXPECT_EQ(aio::detail::live_frames(), frames_at_start_) << "coroutine frames leaked"; }
  weft::io::LoopOptions options() const { return {.backend = GetParam()}; }
  template <class T>
  T run(aio::Task<T> coro) {
    return aio::run(std::move(coro), options());
  }

 private:
  long frames_at_start_ = 0;
};

class Unusual : public std::runtime_error {
 public:
  explicit Unusual(int code) : std::runtime_error("unusual"), code(code) {}
  int code;
};

long add(long a, long b) { return a + b; }
long fail_in_worker(long) { throw weft::ValueError("bad value in a worker"); }

// A thread that waits until the loop thread sleeps in its poll, then runs
// `then`: proof that the loop waited for it instead of giving up.
std::thread when_loop_sleeps(const SleepProbe& probe, std::function<void()> then) {
  return std::thread([&probe, then = std::move(then)] {
    EXPECT_TRUE(probe.wait_asleep()) << "the loop thread never waited";
    then();
  });
}

}  // namespace

// ---- to_thread and run_in_executor ------------------------------------------------

TEST_P(AioThreads, ToThreadRunsOnAnotherThreadAndReturnsTheValue) {
  const auto loop_thread = std::this_thread::get_id();
  const auto [value, job_thread] = run([]() -> aio::Task<std::pair<int, std::thread::id>> {
    co_return co_await aio::to_thread([](int a, int b) { return std::pair(a * b, std::this_thread::get_id()); }, 6, 7);
  }());
  EXPECT_EQ(value, 42);
  EXPECT_NE(job_thread, loop_thread);
}

TEST_P(AioThreads, ToThreadRaisesTheJobsExceptionWithItsType) {
  run([]() -> aio::Task<void> {
    try {
      co_await aio::to_thread([] { throw Unusual(7); });
      ADD_FAILURE() << "no exception";
    } catch (const Unusual& error) {
      EXPECT_EQ(error.code, 7);
    }
    EXPECT_THROW(co_await aio::to_thread([]() -> int { throw weft::ValueError("v"); }), weft::ValueError);
  }());
}

TEST_P(AioThreads, MoveOnlyArgumentsAndResultsAreMovedThrough) {
  auto result = run([]() -> aio::Task<std::unique_ptr<int>> {
    auto input = std::make_unique<int>(20);
    co_return co_await aio::to_thread([](std::unique_ptr<int> p) { return std::make_unique<int>(*p + 1); },
                                      std::move(input));
  }());
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(*result, 21);
}

TEST_P(AioThreads, RunInExecutorUsesTheGivenPool) {
  futures::ThreadPoolExecutor pool(1);
  const auto pool_thread = pool.submit([] { return std::this_thread::get_id(); }).result();
  const auto job_thread = run([](futures::ThreadPoolExecutor& pool) -> aio::Task<std::thread::id> {
    co_return co_await aio::run_in_executor(&pool, [] { return std::this_thread::get_id(); });
  }(pool));
  EXPECT_EQ(job_thread, pool_thread);
}

TEST_P(AioThreads, RunInExecutorWithNullptrUsesTheLoopsDefaultExecutor) {
  run([]() -> aio::Task<void> {
    futures::ThreadPoolExecutor& executor = aio::get_running_loop().default_executor();
    EXPECT_EQ(executor.worker_count(), 0u);
    EXPECT_EQ(co_await aio::run_in_executor(nullptr, [](std::string s) { return s + "!"; }, std::string("hi")), "hi!");
    EXPECT_GE(executor.worker_count(), 1u);
    futures::ThreadPoolExecutor* none = nullptr;
    co_await aio::run_in_executor(none, [] {});
  }());
}

TEST_P(AioThreads, RunInExecutorSubmitsAtOnceNotWhenAwaited) {
  futures::ThreadPoolExecutor pool(1);
  std::atomic<bool> ran{false};
  run([](futures::ThreadPoolExecutor& pool, std::atomic<bool>& ran) -> aio::Task<void> {
    aio::Task<int> pending = aio::run_in_executor(&pool, [&ran] {
      ran = true;
      return 5;
    });
    pool.shutdown(true);  // the job ran without anybody awaiting it
    EXPECT_TRUE(ran.load());
    EXPECT_EQ(co_await std::move(pending), 5);
  }(pool, ran));
}

TEST_P(AioThreads, RunInExecutorWorksWithAProcessPool) {
  futures::ProcessPoolExecutor pool(1);
  run([](futures::ProcessPoolExecutor& pool) -> aio::Task<void> {
    EXPECT_EQ(co_await aio::run_in_executor(&pool, add, 40L, 2L), 42);
    EXPECT_THROW(co_await aio::run_in_executor(&pool, fail_in_worker, 1L), weft::ValueError);
  }(pool));
}

TEST_P(AioThreads, ResultsCanBeGatheredWithTasks) {
  const auto results = run([]() -> aio::Task<std::vector<int>> {
    std::vector<aio::Task<int>> jobs;
    for (int i = 0; i < 8; ++i) jobs.push_back(aio::to_thread([i] { return i * i; }));
    co_return co_await aio::gather(std::move(jobs));
  }());
  EXPECT_EQ(results, (std::vector<int>{0, 1, 4, 9, 16, 25, 36, 49}));
}

// ---- waiting for another thread is not a deadlock -------------------------------------

TEST_P(AioThreads, ALoopWaitingOnlyForAnExecutorJobWaitsForIt) {
  SleepProbe probe;
  EXPECT_EQ(run([](SleepProbe& probe) -> aio::Task<int> {
              probe.arm();
              co_return co_await aio::to_thread([&probe] {
                EXPECT_TRUE(probe.wait_asleep()) << "the loop thread never waited";
                return 3;
              });
            }(probe)),
            3);
}

TEST_P(AioThreads, TheLoopStopsWaitingForOtherThreadsOnceTheJobIsDone) {
  // After the job, a wait that nothing can end is a deadlock again.
  EXPECT_THROW(run([]() -> aio::Task<void> {
                 co_await aio::to_thread([] {});
                 aio::detail::WaitList never_notified;
                 co_await never_notified.wait();
               }()),
               weft::RuntimeError);
}

TEST_P(AioThreads, AWakeUpFromAnotherThreadIsNotHeldBackByAFarTimer) {
  const auto elapsed = run([]() -> aio::Task<std::chrono::steady_clock::duration> {
    auto far = aio::create_task([]() -> aio::Task<void> { co_await aio::sleep(5s); }());
    futures::Future<int> future;
    auto waiter = aio::create_task(aio::wrap_future(future));
    co_await aio::sleep(0ms);  // the waiter now waits for the future
    // The wake-up is posted while the loop's thread is busy here, so the
    // loop finds it only in its next iteration, before its poll.
    std::thread([future]() mutable { future.set_result(1); }).join();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(co_await waiter, 1);
    const auto waited = std::chrono::steady_clock::now() - start;
    far.cancel();
    co_return waited;
  }());
  EXPECT_LT(elapsed, 2s) << "the woken task waited for the timer";
}

// ---- cancellation, both ways ------------------------------------------------------

TEST_P(AioThreads, CancellingTheAwaitingTaskCancelsAJobNotStartedYet) {
  weft::Event release;
  std::atomic<bool> second_ran{false};
  futures::ThreadPoolExecutor pool(1);
  pool.submit([&release] { release.wait(kPatience); });
  run([](futures::ThreadPoolExecutor& pool, std::atomic<bool>& second_ran) -> aio::Task<void> {
    auto waiter = aio::create_task(aio::run_in_executor(&pool, [&second_ran] { second_ran = true; }));
    co_await aio::sleep(0ms);  // the waiter now waits for the queued job
    EXPECT_TRUE(waiter.cancel("stop"));
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(waiter.cancelled());
  }(pool, second_ran));
  release.set();
  pool.shutdown(true);
  EXPECT_FALSE(second_ran.load()) << "the cancelled job still ran";
}

TEST_P(AioThreads, CancellingWhileTheJobRunsResumesAtOnceAndTheLateResultIsHarmless) {
  weft::Event started;
  weft::Event release;
  std::atomic<bool> finished{false};
  futures::ThreadPoolExecutor pool(1);
  run([](futures::ThreadPoolExecutor& pool, weft::Event& started, weft::Event& release,
         std::atomic<bool>& finished) -> aio::Task<void> {
    auto waiter = aio::create_task(aio::run_in_executor(&pool, [&] {
      started.set();
      release.wait(kPatience);
      finished = true;
      return std::string(1000, 'x');
    }));
    co_await aio::to_thread([&started] { started.wait(kPatience); });
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_FALSE(finished.load()) << "the task waited for the running job";
  }(pool, started, release, finished));
  // The awaiting frame is gone; the job completes its future now.
  release.set();
  pool.shutdown(true);
  EXPECT_TRUE(finished.load());
}

TEST_P(AioThreads, AFutureCancelledElsewhereRaisesCancelledError) {
  futures::Future<int> future;
  SleepProbe probe;
  std::thread canceller = when_loop_sleeps(probe, [future]() mutable { EXPECT_TRUE(future.cancel()); });
  run([](futures::Future<int> future, SleepProbe& probe) -> aio::Task<void> {
    probe.arm();
    EXPECT_THROW(co_await aio::wrap_future(future), aio::CancelledError);
    EXPECT_EQ(aio::current_task().cancelling(), 0) << "the task itself was not cancelled";
  }(future, probe));
  canceller.join();
}

TEST_P(AioThreads, CancellingTheAwaitingTaskCancelsTheWrappedFuture) {
  futures::Future<int> future;
  run([](futures::Future<int> future) -> aio::Task<void> {
    auto waiter = aio::create_task(aio::wrap_future(future));
    co_await aio::sleep(0ms);
    waiter.cancel();
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(future.cancelled());
  }(future));
}

// ---- wrap_future ------------------------------------------------------------------

TEST_P(AioThreads, WrapFutureAwaitsAValueSetOnAPlainThread) {
  futures::Future<std::string> future;
  SleepProbe probe;
  std::thread setter = when_loop_sleeps(probe, [future]() mutable { future.set_result("from a thread"); });
  EXPECT_EQ(run([](futures::Future<std::string> future, SleepProbe& probe) -> aio::Task<std::string> {
              probe.arm();
              co_return co_await aio::wrap_future(future);
            }(future, probe)),
            "from a thread");
  setter.join();
  EXPECT_EQ(future.result(), "from a thread") << "wrap_future copies: other handles still read the value";
}

TEST_P(AioThreads, WrapFutureRaisesTheExceptionWithItsType) {
  futures::Future<void> future;
  SleepProbe probe;
  std::thread setter = when_loop_sleeps(
      probe, [future]() mutable { future.set_exception(std::make_exception_ptr(Unusual(3))); });
  run([](futures::Future<void> future, SleepProbe& probe) -> aio::Task<void> {
    probe.arm();
    try {
      co_await aio::wrap_future(future);
      ADD_FAILURE() << "no exception";
    } catch (const Unusual& error) {
      EXPECT_EQ(error.code, 3);
    }
  }(future, probe));
  setter.join();
}

TEST_P(AioThreads, WrapFutureOfADoneFutureReturnsAtOnce) {
  futures::Future<int> future;
  future.set_result(9);
  EXPECT_EQ(run(aio::wrap_future(future)), 9);
  EXPECT_EQ(future.result(), 9);
}

// ---- call_soon_threadsafe and several loops -------------------------------------------

TEST_P(AioThreads, CallSoonThreadsafeFromManyThreadsRunsEveryCallbackInOrderPerThread) {
  constexpr int kThreads = 8;
  const int per_thread = weft::test::scaled(2000);
  std::vector<int> next(kThreads, 0);  // touched by the loop's thread only
  int total = 0;
  bool in_order = true;
  run([](int per_thread, std::vector<int>& next, int& total, bool& in_order) -> aio::Task<void> {
    aio::EventLoop& loop = aio::get_running_loop();
    futures::Future<void> all_ran;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < per_thread; ++i) {
          loop.call_soon_threadsafe([&, t, i] {
            in_order = in_order && next[t] == i;
            next[t] = i + 1;
            if (++total == kThreads * per_thread) all_ran.set_result();
          });
        }
      });
    }
    co_await aio::wrap_future(all_ran);
    for (auto& thread : threads) thread.join();
  }(per_thread, next, total, in_order));
  EXPECT_EQ(total, kThreads * per_thread);
  EXPECT_TRUE(in_order);
}

namespace {
aio::Task<long> count_with_tasks(int tasks, int steps) {
  aio::EventLoop* const loop = &aio::get_running_loop();
  std::vector<aio::TaskHandle<long>> handles;
  for (int t = 0; t < tasks; ++t) {
    handles.push_back(aio::create_task([](aio::EventLoop* loop, int steps, long base) -> aio::Task<long> {
      long sum = 0;
      for (int s = 0; s < steps; ++s) {
        co_await aio::sleep(0ms);
        if (&aio::get_running_loop() != loop) throw std::logic_error("a task ran on a foreign loop");
        sum += base + s;
      }
      co_return sum;
    }(loop, steps, t)));
  }
  long total = 0;
  for (auto& handle : handles) total += co_await handle;
  co_return total;
}
}  // namespace

TEST_P(AioThreads, SeveralLoopsRunSideBySideOnSeveralThreads) {
  constexpr int kLoops = 4;
  constexpr int kTasks = 50;
  constexpr int kSteps = 20;
  long expected = 0;
  for (int t = 0; t < kTasks; ++t)
    for (int s = 0; s < kSteps; ++s) expected += t + s;
  std::latch together(kLoops);
  std::vector<std::future<long>> results;
  for (int i = 0; i < kLoops; ++i) {
    results.push_back(std::async(std::launch::async, [&] {
      together.arrive_and_wait();
      return aio::run(count_with_tasks(kTasks, kSteps), options());
    }));
  }
  for (auto& result : results) {
    ASSERT_EQ(result.wait_for(kPatience), std::future_status::ready);
    EXPECT_EQ(result.get(), expected);
  }
}

TEST_P(AioThreads, ASecondLoopOnAThreadWhoseLoopRunsIsRefused) {
  run([](weft::io::LoopOptions options) -> aio::Task<void> {
    aio::EventLoop second(options);
    EXPECT_THROW(second.run_forever(), weft::RuntimeError);
    EXPECT_THROW(second.run_until_complete([]() -> aio::Task<int> { co_return 1; }()), weft::RuntimeError);
    EXPECT_FALSE(second.is_running());
    co_return;
  }(options()));
}

// An io_uring loop belongs to the thread that first ran it: run on another thread, it throws
// RuntimeError at once (instead of reporting the refusal of each turn) and still runs on its own.
// An epoll loop moves between threads.
TEST_P(AioThreads, AnIoUringLoopRunOnAnotherThreadThrowsAndRunsOnOnItsOwn) {
  aio::EventLoop loop(options());
  int reports = 0;
  loop.set_exception_handler([&reports](aio::EventLoop& loop, const aio::ExceptionContext&) {
    ++reports;
    loop.stop();
  });
  int bodies = 0;
  auto after_a_timer = [&bodies]() -> aio::Task<int> {
    ++bodies;
    co_await aio::sleep(1ms);
    co_return 1;
  };
  EXPECT_EQ(loop.run_until_complete(after_a_timer()), 1);
  const bool moves = loop.io().backend() == weft::io::Backend::epoll;
  std::thread([&] {
    if (moves) {
      EXPECT_EQ(loop.run_until_complete(after_a_timer()), 1);
    } else {
      EXPECT_THROW(loop.run_until_complete(after_a_timer()), weft::RuntimeError);
      EXPECT_THROW(loop.run_forever(), weft::RuntimeError);
      EXPECT_FALSE(loop.is_running());
    }
  }).join();
  EXPECT_EQ(reports, 0);
  EXPECT_EQ(loop.run_until_complete(after_a_timer()), 1);
  EXPECT_EQ(bodies, 3 - (moves ? 0 : 1)) << "a refused run_until_complete left its task behind";
}

TEST_P(AioThreads, AnIoUringLoopWithTasksLeftIsClosedOnlyOnItsOwnThread) {
  aio::EventLoop loop(options());
  auto forever = []() -> aio::Task<void> { co_await aio::sleep(1h); };
  auto after_a_timer = []() -> aio::Task<int> {  // waits in the backend, which binds an io_uring ring
    co_await aio::sleep(1ms);
    co_return 1;
  };
  std::optional<aio::TaskHandle<void>> pending;
  std::promise<void> ran;
  std::promise<void> tried_elsewhere;
  std::thread owner([&] {
    pending = loop.create_task(forever());
    EXPECT_EQ(loop.run_until_complete(after_a_timer()), 1);
    ran.set_value();
    tried_elsewhere.get_future().wait();
    loop.close();
  });
  ran.get_future().wait();
  if (loop.io().backend() == weft::io::Backend::epoll) {
    loop.close();
  } else {
    EXPECT_THROW(loop.close(), weft::RuntimeError);
    EXPECT_FALSE(loop.is_closed());
    EXPECT_FALSE(pending->done());
  }
  tried_elsewhere.set_value();
  owner.join();
  EXPECT_TRUE(loop.is_closed());
  EXPECT_TRUE(pending->cancelled());
}

// In a child process: the leaked frame stays out of the leak checks.
TEST_P(AioThreads, AnIoUringLoopDestroyedOffItsThreadLeavesItsTasksPendingAndSafe) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto loop = std::make_unique<aio::EventLoop>(options());
    int reports = 0;
    loop->set_exception_handler([&reports](aio::EventLoop&, const aio::ExceptionContext&) { ++reports; });
    std::optional<aio::TaskHandle<void>> pending;
    std::thread([&] {
      pending = loop->create_task([]() -> aio::Task<void> { co_await aio::sleep(1h); }());
      loop->run_until_complete([]() -> aio::Task<int> {
        co_await aio::sleep(1ms);
        co_return 1;
      }());
    }).join();
    const bool moves = loop->io().backend() == weft::io::Backend::epoll;
    loop.reset();
    pending->cancel();
    const bool as_promised = moves ? pending->cancelled() && reports == 0 : !pending->done() && reports == 1;
    ::_exit(as_promised ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

// A child of fork() cannot run the loop it inherited (its epoll instance or ring is the parent's):
// closing it there with tasks left throws a RuntimeError that names the fork, not a thread, and
// leaves the loop open; the parent closes it as usual.
TEST_P(AioThreads, ALoopWithTasksLeftClosedInAForkedChildThrowsNamingTheFork) {
  aio::EventLoop loop(options());
  aio::TaskHandle<void> pending = loop.create_task([]() -> aio::Task<void> { co_await aio::sleep(1h); }());
  loop.run_until_complete([]() -> aio::Task<void> { co_await aio::sleep(1ms); }());  // binds an io_uring ring
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(10);  // bounds the child should it hang
    int code = 0;
    try {
      loop.close();
      code = 1;
    } catch (const weft::RuntimeError& error) {
      if (std::string(error.what()).find("fork") == std::string::npos) code = 2;
    } catch (...) {
      code = 3;
    }
    if (loop.is_closed()) code |= 4;
    ::_exit(code);  // the inherited loop is left as it is
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: close() did not throw; 2: its message does not name the fork; "
                                       "3: not RuntimeError; 4: the loop was closed";
  loop.close();
  EXPECT_TRUE(pending.cancelled());
}

// A child forked from inside a task has neither its parent's running loop nor its default loop:
// it runs a loop of its own with aio::run(), as Python's asyncio.run() works in a fork child.
// On a thread of its own, whose default loop ends with it; the child's loop has the backend tested.
TEST_P(AioThreads, AChildForkedFromATaskRunsALoopOfItsOwn) {
  int status = -1;
  std::thread([this, &status] {
    aio::EventLoop& loop = aio::get_event_loop();
    status = loop.run_until_complete([](aio::EventLoop* parent, weft::io::LoopOptions options) -> aio::Task<int> {
      const pid_t child = ::fork();
      if (child == 0) {
        ::alarm(10);  // bounds the child should it hang
        int code = 0;
        if (aio::running_loop_or_null() != nullptr || aio::current_task()) code |= 1;
        if (&aio::get_event_loop() == parent) code |= 2;
        try {
          if (aio::run([]() -> aio::Task<int> { co_return 7; }(), options) != 7) code |= 4;
        } catch (...) {
          code |= 8;
        }
        ::_exit(code);  // the inherited loop is left as it is
      }
      int child_status = -1;
      if (child > 0 && ::waitpid(child, &child_status, 0) != child) child_status = -1;
      co_return child_status;
    }(&loop, options()));
    loop.close();
  }).join();
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: a loop or task of the parent's is current; 2: the parent's default "
                                       "loop is the child's; 4: wrong result; 8: aio::run() threw";
}

// ---- run_coroutine_threadsafe -------------------------------------------------------

namespace {
// A loop running forever on its own thread, stopped and joined at the end.
class LoopThread {
 public:
  // The loop is created here and runs on the new thread; any error it
  // reports fails the test.
  explicit LoopThread(weft::io::LoopOptions options) : loop_(options) {
    loop_.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext& context) {
      ADD_FAILURE() << "the loop reported: " << context.message;
    });
    thread_ = std::thread([this] { loop_.run_forever(); });
  }
  ~LoopThread() {
    loop_.stop();
    thread_.join();
  }
  aio::EventLoop& loop() { return loop_; }

 private:
  aio::EventLoop loop_;
  std::thread thread_;
};

aio::Task<int> slow_double(int x) {
  co_await aio::sleep(1ms);
  co_return 2 * x;
}
}  // namespace

TEST_P(AioThreads, RunCoroutineThreadsafeFromAPlainThreadReturnsTheResult) {
  LoopThread thread(options());
  futures::Future<int> future = aio::run_coroutine_threadsafe(slow_double(21), thread.loop());
  EXPECT_EQ(future.result(kPatience), 42);
  auto failing = aio::run_coroutine_threadsafe(
      []() -> aio::Task<void> {
        co_await aio::sleep(0ms);
        throw Unusual(11);
      }(),
      thread.loop());
  try {
    failing.result(kPatience);
    ADD_FAILURE() << "no exception";
  } catch (const Unusual& error) {
    EXPECT_EQ(error.code, 11);
  }
}

TEST_P(AioThreads, CancellingTheFutureCancelsTheTask) {
  LoopThread thread(options());
  std::promise<std::string> seen;
  weft::Event waiting;
  auto future = aio::run_coroutine_threadsafe(
      [](std::promise<std::string>& seen, weft::Event& waiting) -> aio::Task<int> {
        try {
          waiting.set();
          co_await aio::sleep(1h);
        } catch (const aio::CancelledError&) {
          seen.set_value("cancelled");
          throw;
        }
        co_return 0;
      }(seen, waiting),
      thread.loop());
  ASSERT_TRUE(waiting.wait(kPatience)) << "the task never started";
  EXPECT_TRUE(future.cancel());
  auto outcome = seen.get_future();
  ASSERT_EQ(outcome.wait_for(kPatience), std::future_status::ready) << "the task was never cancelled";
  EXPECT_EQ(outcome.get(), "cancelled");
  EXPECT_TRUE(future.cancelled());
}

TEST_P(AioThreads, AFutureCancelledBeforeTheTaskStartsNeverRunsIt) {
  aio::EventLoop loop(options());
  std::atomic<bool> body_ran{false};
  auto future = aio::run_coroutine_threadsafe(
      [](std::atomic<bool>& ran) -> aio::Task<void> {
        ran = true;
        co_return;
      }(body_ran),
      loop);
  EXPECT_TRUE(future.cancel());
  std::thread runner([&loop] { loop.run_forever(); });
  // Tasks start in the order they were handed over: once this one is done,
  // the first one had its turn.
  EXPECT_EQ(aio::run_coroutine_threadsafe(slow_double(1), loop).result(kPatience), 2);
  loop.stop();
  runner.join();
  EXPECT_FALSE(body_ran.load());
}

TEST_P(AioThreads, ATaskThatEndsCancelledCancelsTheFuture) {
  LoopThread thread(options());
  auto future = aio::run_coroutine_threadsafe(
      []() -> aio::Task<int> {
        aio::current_task().cancel();
        co_await aio::sleep(0ms);
        co_return 1;
      }(),
      thread.loop());
  EXPECT_THROW(future.result(kPatience), weft::CancelledError);
  EXPECT_TRUE(future.cancelled());
}

TEST_P(AioThreads, ACoroutineHandedToALoopThatNeverRunsItCancelsTheFuture) {
  futures::Future<int> future;
  {
    aio::EventLoop loop(options());
    future = aio::run_coroutine_threadsafe(slow_double(1), loop);
    loop.close();
  }
  EXPECT_TRUE(future.cancelled());
}

// Python: a closed loop refuses callbacks with RuntimeError('Event loop is
// closed'), and so run_coroutine_threadsafe() on it.
TEST_P(AioThreads, AClosedLoopRefusesCallbacksAndCoroutines) {
  aio::EventLoop loop(options());
  loop.close();
  EXPECT_THROW(loop.call_soon([] {}), weft::RuntimeError);
  EXPECT_THROW(loop.call_later(1ms, [] {}), weft::RuntimeError);
  EXPECT_THROW(loop.call_at(loop.time(), [] {}), weft::RuntimeError);
  std::thread other([&loop] {
    EXPECT_THROW(loop.call_soon_threadsafe([] {}), weft::RuntimeError);
    EXPECT_THROW(aio::run_coroutine_threadsafe(slow_double(1), loop), weft::RuntimeError);
  });
  other.join();
}

// A coroutine handed over before close() and never run: its future is
// cancelled by close(), not only when the loop is destroyed.
TEST_P(AioThreads, ACoroutineHandedToALoopThatClosesCancelsTheFutureAtTheClose) {
  aio::EventLoop loop(options());
  futures::Future<int> future;
  std::thread other([&] { future = aio::run_coroutine_threadsafe(slow_double(1), loop); });
  other.join();
  loop.close();
  EXPECT_TRUE(future.cancelled());
}

// A coroutine handed over while run's epilogue waits for a cancelled task's cleanup becomes a
// task that the epilogue cancels in its turn, instead of waiting for it: its future is cancelled.
// The hand-off happens while the cleanup waits for it, so the loop is known to be open then.
TEST_P(AioThreads, ACoroutineHandedOverWhileRunCancelsIsCancelled) {
  std::atomic<aio::EventLoop*> loop{nullptr};
  weft::Event cleaning;
  weft::Event started;
  futures::Future<int> future;
  std::thread other([&] {
    ASSERT_TRUE(cleaning.wait(kPatience)) << "the task was never cancelled";
    try {
      future = aio::run_coroutine_threadsafe(
          [](weft::Event& started) -> aio::Task<int> {
            started.set();
            co_await aio::sleep(20s);
            co_return 1;
          }(started),
          *loop.load());
    } catch (const weft::RuntimeError& error) {
      ADD_FAILURE() << "the hand-off failed: " << error.what();
    }
  });
  const auto start = std::chrono::steady_clock::now();
  run([](std::atomic<aio::EventLoop*>& loop, weft::Event& cleaning, weft::Event& started) -> aio::Task<void> {
    loop = &aio::get_running_loop();
    aio::create_task([](weft::Event& cleaning, weft::Event& started) -> aio::Task<void> {
      try {
        co_await aio::sleep(10s);
      } catch (const aio::CancelledError&) {
      }
      cleaning.set();
      // The handed-over coroutine runs as a task of this loop before the cleanup ends.
      EXPECT_TRUE(co_await aio::to_thread([&started] { return started.wait(kPatience); }));
      throw aio::CancelledError();
    }(cleaning, started));
    co_await aio::sleep(0ms);
  }(loop, cleaning, started));
  other.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_TRUE(future.cancelled());
}

// A loop destroyed as soon as run_forever() returns, while the thread whose stop() ended it may
// still be inside stop(): the destructor waits for that thread to let go. (Only the ASan+UBSan
// build sees a use after free here; the race is a few instructions wide.)
TEST_P(AioThreads, ALoopStoppedFromAnotherThreadMayBeDestroyedAtOnce) {
  for (int round = 0; round < 200; ++round) {
    auto loop = std::make_unique<aio::EventLoop>(options());
    std::atomic<bool> running{false};
    loop->call_soon([&running] { running.store(true); });
    std::thread stopper([raw = loop.get(), &running] {
      while (!running.load()) std::this_thread::yield();
      raw->stop();
    });
    loop->run_forever();
    loop.reset();
    stopper.join();
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, AioThreads,
                         ::testing::Values(weft::io::Backend::epoll, weft::io::Backend::io_uring),
                         [](const auto& info) { return std::string(weft::io::to_string(info.param)); });
