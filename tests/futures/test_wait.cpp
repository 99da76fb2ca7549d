// weft::futures::wait with each return_when and as_completed: completion order, timeouts, duplicates, cancellation.
#include <gtest/gtest.h>
#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "futures/futures_support.hpp"

namespace {

using namespace weft::test;
using weft::futures::ALL_COMPLETED;
using weft::futures::FIRST_COMPLETED;
using weft::futures::FIRST_EXCEPTION;
using weft::futures::Future;
namespace futures = weft::futures;

struct Oops : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::exception_ptr oops() { return std::make_exception_ptr(Oops("failed")); }

// The same futures, whatever their order.
template <class T>
bool same_set(const std::vector<Future<T>>& a, const std::vector<Future<T>>& b) {
  std::set<const void*> ids_a;
  std::set<const void*> ids_b;
  for (const auto& f : a) ids_a.insert(f.id());
  for (const auto& f : b) ids_b.insert(f.id());
  return a.size() == b.size() && ids_a == ids_b;
}

// Completes `future` from another thread once the calling thread (which arms the probe and then
// blocks) is asleep.
class LateCompleter {
 public:
  template <class F>
  explicit LateCompleter(F complete)
      : thread_([this, complete]() mutable {
          probe_.wait_asleep();
          complete();
        }) {
    thread_.start();
  }
  ~LateCompleter() { thread_.join(); }
  // Call just before blocking.
  void arm() { probe_.arm(); }

 private:
  SleepProbe probe_;
  weft::Thread thread_;
};

// ---- wait ----

TEST(Wait, AllCompletedReturnsOnceEveryFutureIsDone) {
  std::vector<Future<int>> fs(3);
  LateCompleter completer([&] {
    for (int i = 0; i < 3; ++i) fs[i].set_result(i);
  });
  completer.arm();
  auto [done, not_done] = futures::wait(fs, kPatience);
  EXPECT_TRUE(same_set(done, fs));
  EXPECT_TRUE(not_done.empty());
}

TEST(Wait, AllCompletedWithoutTimeoutIsTheDefault) {
  std::vector<Future<int>> fs(2);
  for (auto& f : fs) f.set_result(0);
  auto split = futures::wait(fs);
  EXPECT_EQ(split.done.size(), 2u);
  EXPECT_TRUE(split.not_done.empty());
}

TEST(Wait, AllCompletedTimesOutWithTheSplit) {
  std::vector<Future<int>> fs(3);
  fs[0].set_result(0);
  fs[2].set_exception(oops());
  Stopwatch sw;
  auto [done, not_done] = futures::wait(fs, kTick, ALL_COMPLETED);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(same_set(done, {fs[0], fs[2]}));
  EXPECT_TRUE(same_set(not_done, {fs[1]}));
  fs[1].set_result(1);
}

TEST(Wait, FirstCompletedReturnsAtOnceIfOneIsAlreadyDone) {
  std::vector<Future<int>> fs(3);
  fs[1].set_result(1);
  auto [done, not_done] = futures::wait(fs, FIRST_COMPLETED);
  EXPECT_TRUE(same_set(done, {fs[1]}));
  EXPECT_TRUE(same_set(not_done, {fs[0], fs[2]}));
}

TEST(Wait, FirstCompletedWakesOnACompletion) {
  std::vector<Future<int>> fs(3);
  LateCompleter completer([&] { fs[2].set_result(2); });
  completer.arm();
  auto [done, not_done] = futures::wait(fs, kPatience, FIRST_COMPLETED);
  EXPECT_TRUE(same_set(done, {fs[2]}));
  EXPECT_TRUE(same_set(not_done, {fs[0], fs[1]}));
}

TEST(Wait, FirstCompletedTimesOut) {
  std::vector<Future<int>> fs(2);
  Stopwatch sw;
  auto [done, not_done] = futures::wait(fs, kTick, FIRST_COMPLETED);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(done.empty());
  EXPECT_EQ(not_done.size(), 2u);
}

TEST(Wait, FirstCompletedCountsACancellation) {
  std::vector<Future<int>> fs(2);
  LateCompleter completer([&] { fs[0].cancel(); });
  completer.arm();
  auto [done, not_done] = futures::wait(fs, kPatience, FIRST_COMPLETED);
  EXPECT_TRUE(same_set(done, {fs[0]}));
  EXPECT_TRUE(done[0].cancelled());
}

TEST(Wait, FirstExceptionReturnsAtOnceIfOneAlreadyFailed) {
  std::vector<Future<int>> fs(3);
  fs[0].set_result(0);
  fs[1].set_exception(oops());
  auto [done, not_done] = futures::wait(fs, FIRST_EXCEPTION);
  EXPECT_TRUE(same_set(done, {fs[0], fs[1]}));
  EXPECT_TRUE(same_set(not_done, {fs[2]}));
}

TEST(Wait, FirstExceptionWakesOnAFailure) {
  std::vector<Future<int>> fs(3);
  LateCompleter completer([&] {
    fs[0].set_result(0);
    fs[1].set_exception(oops());
  });
  completer.arm();
  auto [done, not_done] = futures::wait(fs, kPatience, FIRST_EXCEPTION);
  EXPECT_TRUE(same_set(done, {fs[0], fs[1]}));
  EXPECT_TRUE(same_set(not_done, {fs[2]}));
}

TEST(Wait, FirstExceptionWithoutFailuresWaitsForAll) {
  std::vector<Future<int>> fs(2);
  fs[0].set_result(0);
  Stopwatch sw;
  auto timed_out = futures::wait(fs, kTick, FIRST_EXCEPTION);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick)) << "returned on a success";
  EXPECT_EQ(timed_out.done.size(), 1u);
  EXPECT_EQ(timed_out.not_done.size(), 1u);

  fs[1].set_result(1);
  auto all = futures::wait(fs, kPatience, FIRST_EXCEPTION);
  EXPECT_EQ(all.done.size(), 2u);
  EXPECT_TRUE(all.not_done.empty());
}

TEST(Wait, FirstExceptionDoesNotCountACancellation) {
  std::vector<Future<int>> fs(2);
  fs[0].cancel();
  Stopwatch sw;
  auto [done, not_done] = futures::wait(fs, kTick, FIRST_EXCEPTION);
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
  EXPECT_TRUE(same_set(done, {fs[0]}));
  EXPECT_TRUE(same_set(not_done, {fs[1]}));
}

TEST(Wait, ACancelledFutureIsDone) {
  std::vector<Future<void>> fs(2);
  fs[0].cancel();
  fs[1].set_result();
  auto [done, not_done] = futures::wait(fs, 0ms);
  EXPECT_EQ(done.size(), 2u);
  EXPECT_TRUE(not_done.empty());
}

TEST(Wait, AZeroTimeoutPolls) {
  std::vector<Future<int>> fs(2);
  fs[0].set_result(0);
  Stopwatch sw;
  auto [done, not_done] = futures::wait(fs, 0ms);
  EXPECT_LT(sw.elapsed(), kSlack);
  EXPECT_TRUE(same_set(done, {fs[0]}));
  EXPECT_TRUE(same_set(not_done, {fs[1]}));
}

TEST(Wait, ANegativeTimeoutPolls) {
  std::vector<Future<int>> fs(2);
  fs[0].set_result(0);
  auto [done, not_done] = futures::wait(fs, -1ms);
  EXPECT_TRUE(same_set(done, {fs[0]}));
  EXPECT_TRUE(same_set(not_done, {fs[1]}));
  auto range = futures::as_completed(fs, -1ms);
  auto first = range.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result(), 0);
  EXPECT_THROW(range.next(), futures::TimeoutError);
}

TEST(Wait, OfNothingReturnsAtOnce) {
  for (auto when : {FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED}) {
    auto [done, not_done] = futures::wait(std::vector<Future<int>>{}, when);
    EXPECT_TRUE(done.empty());
    EXPECT_TRUE(not_done.empty());
  }
}

TEST(Wait, ReportsEachDuplicateOnce) {
  Future<int> a;
  Future<int> b;
  a.set_result(1);
  auto [done, not_done] = futures::wait(std::vector<Future<int>>{a, a, b, b, a}, 0ms);
  EXPECT_TRUE(same_set(done, {a}));
  EXPECT_TRUE(same_set(not_done, {b}));
}

TEST(Wait, OnPoolFutures) {
  weft::Event gate;
  futures::ThreadPoolExecutor pool(2);
  std::vector<Future<int>> fs;
  fs.push_back(pool.submit([] { return 1; }));
  fs.push_back(pool.submit([&] { return gate.wait(kPatience) ? 2 : -1; }));
  auto first = futures::wait(fs, kPatience, FIRST_COMPLETED);
  ASSERT_FALSE(first.done.empty());
  gate.set();
  auto all = futures::wait(fs, kPatience);
  EXPECT_EQ(all.done.size(), 2u);
  EXPECT_EQ(fs[1].result(), 2);
}

TEST(Wait, ManyWaitersOnTheSameFutures) {
  std::vector<Future<int>> fs(4);
  Countdown all_returned(3);
  std::vector<std::unique_ptr<weft::Thread>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::make_unique<weft::Thread>([&] {
      if (futures::wait(fs, kPatience).not_done.empty()) all_returned.count_down();
    }));
    waiters.back()->start();
  }
  for (int i = 0; i < 4; ++i) fs[i].set_result(i);
  EXPECT_TRUE(all_returned.wait());
  for (auto& t : waiters) t->join();
}

// ---- as_completed ----

TEST(AsCompleted, YieldsAlreadyDoneFuturesFirst) {
  std::vector<Future<int>> fs(3);
  fs[2].set_result(2);
  fs[1].set_result(1);
  auto range = futures::as_completed(fs);
  auto first = range.next();
  auto second = range.next();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(same_set<int>({*first, *second}, {fs[1], fs[2]}));
  fs[0].set_result(0);
  auto third = range.next();
  ASSERT_TRUE(third);
  EXPECT_TRUE(*third == fs[0]);
  EXPECT_EQ(range.next(), std::nullopt);
}

TEST(AsCompleted, YieldsInCompletionOrder) {
  std::vector<Future<int>> fs(4);
  auto range = futures::as_completed(fs);
  for (int i : {2, 0, 3, 1}) fs[i].set_result(i);
  std::vector<int> order;
  while (auto f = range.next()) order.push_back(f->result());
  EXPECT_EQ(order, (std::vector<int>{2, 0, 3, 1}));
}

TEST(AsCompleted, BlocksUntilAnotherThreadCompletes) {
  std::vector<Future<std::string>> fs(1);
  LateCompleter completer([&] { fs[0].set_result("late"); });
  auto range = futures::as_completed(fs, kPatience);
  completer.arm();
  auto f = range.next();
  ASSERT_TRUE(f);
  EXPECT_EQ(f->result(), "late");
}

TEST(AsCompleted, TimeoutThrowsTimeoutErrorNamingTheUnfinished) {
  std::vector<Future<int>> fs(3);
  fs[1].set_result(1);
  Stopwatch sw;
  auto range = futures::as_completed(fs, kTick);
  auto first = range.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == fs[1]);
  try {
    range.next();
    ADD_FAILURE() << "no TimeoutError";
  } catch (const futures::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "2 (of 3) futures unfinished");
  }
  EXPECT_TRUE(expired_after(sw.elapsed(), kTick));
}

TEST(AsCompleted, TimeoutCountsFromTheCall) {
  std::vector<Future<int>> fs(1);
  auto range = futures::as_completed(fs, kTick);
  std::this_thread::sleep_for(2 * kTick);  // past the deadline
  Stopwatch sw;
  EXPECT_THROW(range.next(), futures::TimeoutError);
  EXPECT_LT(sw.elapsed(), kTick) << "the deadline restarted at next()";
}

TEST(AsCompleted, YieldsDuplicatesOnce) {
  Future<int> a;
  Future<int> b;
  std::vector<Future<int>> fs{a, b, a, a};
  a.set_result(1);
  auto range = futures::as_completed(fs, kTick);
  auto first = range.next();
  ASSERT_TRUE(first);
  EXPECT_TRUE(*first == a);
  try {
    range.next();
    ADD_FAILURE() << "no TimeoutError";
  } catch (const futures::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "1 (of 2) futures unfinished");
  }
  b.set_result(2);
  std::vector<Future<int>> both{a, b, b, a};
  int yielded = 0;
  for (const auto& f : futures::as_completed(both)) {
    EXPECT_TRUE(f.done());
    ++yielded;
  }
  EXPECT_EQ(yielded, 2);
}

TEST(AsCompleted, YieldsCancelledFutures) {
  std::vector<Future<int>> fs(2);
  auto range = futures::as_completed(fs, kPatience);
  fs[1].cancel();
  fs[0].set_exception(oops());
  auto first = range.next();
  auto second = range.next();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->cancelled());
  EXPECT_THROW(second->result(), Oops);
}

TEST(AsCompleted, DestroyingTheRangeEarlyIsSafe) {
  std::vector<Future<int>> fs(3);
  {
    auto range = futures::as_completed(fs);
    fs[0].set_result(0);
    ASSERT_TRUE(range.next());
  }
  fs[1].set_result(1);
  fs[2].cancel();
  EXPECT_TRUE(fs[2].cancelled());
}

TEST(AsCompleted, OfNothingYieldsNothing) {
  auto range = futures::as_completed(std::vector<Future<int>>{}, 0ms);
  EXPECT_EQ(range.next(), std::nullopt);
}

TEST(AsCompleted, ARangeForOverPoolFutures) {
  futures::ThreadPoolExecutor pool(3);
  std::vector<Future<int>> fs;
  for (int i = 0; i < 20; ++i) fs.push_back(pool.submit([i] { return i * i; }));
  std::multiset<int> seen;
  for (const auto& f : futures::as_completed(fs, kPatience)) seen.insert(f.result());
  std::multiset<int> expected;
  for (int i = 0; i < 20; ++i) expected.insert(i * i);
  EXPECT_EQ(seen, expected);
}

TEST(AsCompleted, OnlyTheCompletedAreYieldedBeforeATimeout) {
  weft::Event gate;
  futures::ThreadPoolExecutor pool(1);
  std::vector<Future<int>> fs;
  fs.push_back(pool.submit([] { return 1; }));
  fs.push_back(pool.submit([&] { return gate.wait(kPatience) ? 2 : -1; }));
  {
    auto range = futures::as_completed(fs, kTick);
    auto first = range.next();
    ASSERT_TRUE(first);
    EXPECT_EQ(first->result(), 1);
    EXPECT_THROW(range.next(), futures::TimeoutError);
  }
  gate.set();
  EXPECT_EQ(fs[1].result(kPatience), 2);
}

}  // namespace
