// Seed 001, "6. 进程池与线程池基本使用": ThreadPoolExecutor(5) runs task(n)
// for n in 0..19 — print n, sleep 2 s, return '>>>:%s' % n**2 — the main
// thread submits all twenty asynchronously (异步提交), collects the futures,
// prints every result (同步: result() waits), shuts the pool down and
// prints the results again.
//
// Shows weft::futures::ThreadPoolExecutor with submit() returning typed
// Futures, result() blocking until each is ready, shutdown() waiting for
// the pool, and that a pool of 5 runs 20 two-second tasks in 4 rounds, on
// at most 5 threads.
//
// Time: one seed second is 20 ms, so time.sleep(2) is 40 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <weft/futures.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace futures = weft::futures;

constexpr auto kSeedSecond = 20ms;

std::mutex names_mutex;
std::set<std::string> worker_names;

std::string task(int n) {
  std::printf("%d\n", n);
  {
    std::lock_guard held(names_mutex);
    worker_names.insert(weft::current_thread().name());
  }
  std::this_thread::sleep_for(2 * kSeedSecond);
  return ">>>:" + std::to_string(n * n);
}

int main() {
  futures::ThreadPoolExecutor pool(5);  // 可以自定义线程数,也可以采用默认策略

  const auto start = std::chrono::steady_clock::now();
  std::vector<futures::Future<std::string>> obj_list;
  for (int i = 0; i < 20; ++i) obj_list.push_back(pool.submit(task, i));  // 异步提交

  bool all_right = true;
  for (int i = 0; i < 20; ++i) {
    const std::string& result = obj_list[i].result();  // 同步: 等待任务的执行结果
    std::printf("%s\n", result.c_str());
    all_right = all_right && result == ">>>:" + std::to_string(i * i);
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;

  pool.shutdown();  // 等待线程池中所有的任务执行完毕之后
  for (auto& future : obj_list) std::printf("%s\n", future.result().c_str());

  seed::check(all_right, "every future returned '>>>:' + n**2, in submission order");
  seed::check(worker_names.size() <= 5 && pool.worker_count() <= 5, "the pool ran the tasks on at most 5 threads");
  seed::check(elapsed >= 4 * 2 * kSeedSecond - 5ms,
              "twenty 2-second tasks on 5 threads took at least 4 rounds (a pool bounds concurrency)");
  std::printf("20 tasks of %lld ms on a pool of 5: %lld ms\n",
              static_cast<long long>(std::chrono::milliseconds(2 * kSeedSecond).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  return seed::verdict();
}
