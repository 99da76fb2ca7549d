// Seed 001, 进程池与线程池: two programs with
// concurrent.futures.ProcessPoolExecutor.
//
// The first: pool = ProcessPoolExecutor() ("池子里面的进程数默认与当前计算机cpu核数
// 保持一致"); task(n) prints '开始', counts res from 1 up n times, sleeps 1 s
// and returns res; 100 tasks are submitted (异步提交任务), pool.shutdown()
// waits for all of them ("等待池子中的所有任务运行完毕之后再关闭池子并往后运行") and
// the results are printed (同步). The seed's loop body `res = res += 1` is a
// syntax error in Python; the twin runs what it means, `res += 1`, so
// task(n) returns n + 1. The seed also prints ret.result() — the last
// future — a hundred times; the twin prints each future's result.
//
// The second: ProcessPoolExecutor(5); task(n) prints n and its pid, sleeps
// 2 s and returns '>>>:%s' % n**2; twenty tasks are submitted with
// pool.submit(task, i).add_done_callback(call_back), and call_back prints
// '异步回调函数:%s' % a.result — the seed forgets the call and prints the
// bound method; the twin calls result(). The seed never calls shutdown();
// Python's exit handler waits for the pool, as the executor's destructor
// does here.
//
// Shows weft::futures::ProcessPoolExecutor: a default size of one process
// per CPU, submit() returning typed futures at once, shutdown() waiting
// for every task, done-callbacks receiving each finished future in the
// main process (异步回调: "结果由异步回调机制自动反馈"), and that the tasks ran in
// worker processes, at most 5 of them.
//
// Time: one seed second is 10 ms.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <weft/futures.hpp>
#include <weft/futures/process_pool_executor.hpp>
#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace futures = weft::futures;
namespace mp = weft::mp;

constexpr auto kSeedSecond = 10ms;

// ---- the first program ----

int task(int n) {
  std::printf("开始\n");
  int res = 1;
  for (int i = 0; i < n; ++i) res += 1;
  std::this_thread::sleep_for(kSeedSecond);
  return res;
}

void first_program() {
  futures::ProcessPoolExecutor pool;  // 池子里面的进程数默认与当前计算机cpu核数保持一致
  std::printf("ProcessPoolExecutor() has %zu worker processes\n", pool.max_workers());

  std::vector<futures::Future<int>> obj_list;
  for (int i = 0; i < 100; ++i) obj_list.push_back(pool.submit(task, i));  // 异步提交任务

  pool.shutdown();  // 等待池子中的所有任务运行完毕之后再关闭池子并往后运行
  bool all_done = true;
  for (const auto& ret : obj_list) all_done = all_done && ret.done();

  bool all_right = true;
  for (int i = 0; i < 100; ++i) {
    const int result = obj_list[static_cast<std::size_t>(i)].result();  // 同步提交: 原地等待任务的结果
    std::printf("%d\n", result);
    all_right = all_right && result == i + 1;
  }
  seed::check(pool.max_workers() == std::max(1u, std::thread::hardware_concurrency()),
              "ProcessPoolExecutor() starts one worker process per CPU");
  seed::check(all_done, "shutdown() returned only once all 100 tasks were done");
  seed::check(all_right, "every task(n) returned n + 1");
}

// ---- the second program ----

// [a worker pid seen (unused slots are 0)]: shared with the workers, which
// are forked from this process.
mp::Array<int> worker_pids(6);

std::string task2(int n) {
  std::printf("%d %d\n", n, static_cast<int>(::getpid()));
  {
    std::lock_guard held(worker_pids);
    for (int& slot : worker_pids) {
      if (slot == static_cast<int>(::getpid())) break;
      if (slot == 0) {
        slot = static_cast<int>(::getpid());
        break;
      }
    }
  }
  std::this_thread::sleep_for(2 * kSeedSecond);
  return ">>>:" + std::to_string(n * n);
}

std::mutex called_back_mutex;
std::set<std::string> called_back;
std::set<pid_t> callback_pids;

// 定义一个回调函数: 异步提交完之后有结果自动调用该函数
void call_back(futures::Future<std::string> a) {
  std::printf("异步回调函数:%s\n", a.result().c_str());
  std::lock_guard held(called_back_mutex);
  called_back.insert(a.result());
  callback_pids.insert(::getpid());
}

void second_program() {
  {
    futures::ProcessPoolExecutor pool(5);  // 可以自定义进程数,也可以采用默认策略
    for (int i = 0; i < 20; ++i) pool.submit(task2, i).add_done_callback(call_back);
  }  // like Python at exit: waits for the pool

  std::set<std::string> expected;
  for (int n = 0; n < 20; ++n) expected.insert(">>>:" + std::to_string(n * n));
  std::set<int> workers;
  for (const int pid : worker_pids)
    if (pid != 0) workers.insert(pid);
  seed::check(called_back == expected,
              "call_back received every finished future, '>>>:' + n**2 for all 20");
  seed::check(callback_pids == std::set<pid_t>{::getpid()}, "call_back ran in the main process");
  seed::check(!workers.empty() && workers.size() <= 5 && !workers.contains(::getpid()),
              "the tasks ran in at most 5 worker processes, none of them the main one");
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before the workers fork
  first_program();
  second_program();
  return seed::verdict();
}
