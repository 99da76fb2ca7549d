// Seed 004, 进程池 (Pool([numprocess [,initializer [, initargs]]]): "如果指定
// numprocess为3,则进程池会从无到有创建三个进程,然后自始至终使用这三个进程去执行所有
// 任务"). The document keeps the prose of its examples but not their listings;
// the twin follows the examples as that course writes them:
//
//   实际应用代码示例 — pool.map(func, range(100)) on Pool(4) against 100
//     Processes running func ("map是异步执行的,并且自带close和join"),
//     printing both times;
//   同步与异步两种执行方式 — Pool(3): ten res = p.apply(task, args=(i,)) one
//     after the other (task prints its pid, sleeps randint(1, 3) s and
//     returns n**2), then ten apply_async(task, args=(i,)) collected first
//     and get() afterwards;
//   回调函数 — Pool(5): apply_async(func1, args=(i,), callback=func2) for i
//     in 10..19, func1 returning n + 1 and func2 printing it in the main
//     process ("主进程则调用一个函数去处理该结果,该函数即回调函数").
//
// Shows: map returns every result in order and a pool of 4 does the work
// of 100 processes faster than starting them; apply() waits for each task
// (同步: the ten sleeps add up) while apply_async() lets them overlap
// (异步: three processes take about a third of the time); a callback
// receives each result in the main process.
//
// Time: one seed second is 20 ms; the random sleeps use a fixed pattern
// (1, 2, 3, 1, ...) instead of randint so both runs sleep the same.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <numeric>
#include <ranges>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/mp/pool.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace mp = weft::mp;
using Clock = std::chrono::steady_clock;

constexpr auto kSeedSecond = 20ms;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// ---- 实际应用代码示例: map against a process per item ----

int func(int n) {
  for (int i = 0; i < 5; ++i) n = n + i;
  return n;
}

void map_vs_processes() {
  const auto pool_start_time = Clock::now();
  std::vector<int> results;
  {
    mp::Pool pool(4);
    results = pool.map(func, std::views::iota(0, 100));
    pool.close();
    pool.join();
  }
  const double pool_dif_time = seconds_since(pool_start_time);

  const auto p_s_t = Clock::now();
  {
    std::vector<mp::Process> p_list;
    p_list.reserve(100);
    for (int i = 0; i < 100; ++i) p_list.emplace_back(func, i).start();
    for (auto& pp : p_list) pp.join();
  }
  const double p_dif_time = seconds_since(p_s_t);
  std::printf("进程池的时间: %.4f s\n多进程的时间: %.4f s\n", pool_dif_time, p_dif_time);

  bool in_order = results.size() == 100;
  for (int i = 0; in_order && i < 100; ++i) in_order = results[static_cast<std::size_t>(i)] == i + 10;
  seed::check(in_order, "map returned func(i) for all 100 items, in order");
  seed::check(pool_dif_time < p_dif_time,
              "a pool of 4 processes did the work faster than starting 100 processes");
}

// ---- 同步与异步两种执行方式 ----

int task(int n) {
  std::printf("%d is running\n", static_cast<int>(::getpid()));
  std::this_thread::sleep_for((1 + n % 3) * kSeedSecond);  // time.sleep(random.randint(1, 3))
  return n * n;
}

void sync_vs_async() {
  mp::Pool p(3);
  p.apply(task, std::tuple{0});  // starts every worker before the clock runs

  auto start = Clock::now();
  std::vector<int> res_l;
  for (int i = 0; i < 10; ++i) res_l.push_back(p.apply(task, std::tuple{i}));  // 同步调用
  const double sync_time = seconds_since(start);
  std::printf("[");
  for (const int res : res_l) std::printf("%d ", res);
  std::printf("]\n");

  start = Clock::now();
  std::vector<mp::AsyncResult<int>> async_l;
  for (int i = 0; i < 10; ++i) async_l.push_back(p.apply_async(task, std::tuple{i}));  // 异步调用
  std::vector<int> got;
  for (const auto& res : async_l) got.push_back(res.get());
  const double async_time = seconds_since(start);
  for (const int value : got) std::printf("%d\n", value);
  p.close();
  p.join();
  std::printf("apply: %.3f s, apply_async: %.3f s\n", sync_time, async_time);

  std::vector<int> squares(10);
  for (int i = 0; i < 10; ++i) squares[static_cast<std::size_t>(i)] = i * i;
  const double sleeps = 19 * std::chrono::duration<double>(kSeedSecond).count();  // 1+2+3+1+... s
  seed::check(res_l == squares && got == squares, "apply and apply_async both gave n**2 in order");
  seed::check(sync_time >= sleeps, "apply() waited for each task in turn: the ten sleeps added up");
  seed::check(async_time < 0.7 * sync_time,
              "apply_async() let three processes sleep at once: well under the serial time");
}

// ---- 回调函数 ----

int func1(int n) { return n + 1; }

std::mutex func2_mutex;
std::set<int> func2_args;
std::set<pid_t> func2_pids;

void func2(int m) {
  std::printf("%d\n", m);
  std::lock_guard held(func2_mutex);
  func2_args.insert(m);
  func2_pids.insert(::getpid());
}

void callback() {
  mp::Pool p(5);
  for (int i = 10; i < 20; ++i) p.apply_async(func1, std::tuple{i}, func2);
  p.close();
  p.join();
  std::set<int> expected;
  for (int i = 10; i < 20; ++i) expected.insert(i + 1);
  seed::check(func2_args == expected && func2_pids == std::set<pid_t>{::getpid()},
              "the callback got every result, 11 to 20, in the main process");
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before any fork
  map_vs_processes();
  sync_vs_async();
  callback();
  return seed::verdict();
}
