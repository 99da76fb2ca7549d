// Seed 001, "6. 进程池与线程池基本使用": ThreadPoolExecutor(5) runs task(n)
// for n in 0..19 — print n, sleep 2 s, return '>>>:%s' % n**2 — the main
// thread submits all twenty asynchronously (异步提交), collects the futures,
// prints every result (同步: result() waits), shuts the pool down and
// prints the results again.
//
// Shows weft::futures::ThreadPoolExecutor with submit() returning typed
// Futures, result() blocking until each is ready, shutdown() waiting for
// the pool, and that a pool of 5 runs 20 two-second tasks in 4 rounds, on
// at most 5 threads: the tasks count themselves in and out, at most 5 (and
// at the fullest exactly 5) ran at once, and the whole run took at least 4
// rounds of sleeps and fewer than 6 (20 tasks one after another would take
// 20).
//
// Time: one seed second is 20 ms, so time.sleep(2) is 40 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
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
std::atomic<int> running{0}, most_running{0};

std::string task(int n) {
  std::printf("%d\n", n);
  {
    std::lock_guard held(names_mutex);
    worker_names.insert(weft::current_thread().name());
  }
  const int now = running.fetch_add(1) + 1;
  int most = most_running.load();
  while (now > most && !most_running.compare_exchange_weak(most, now)) {
  }
  std::this_thread::sleep_for(2 * kSeedSecond);
  running.fetch_sub(1);
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
  std::printf("most tasks running at once: %d\n", most_running.load());
  seed::check(most_running.load() == 5, "the pool ran 5 tasks at once, never more");
  const auto round = 2 * kSeedSecond;
  seed::check(elapsed >= 4 * round - 5ms && elapsed < 6 * round,
              "twenty 2-second tasks on 5 threads took 4 rounds, not more (a pool bounds concurrency)");
  std::printf("20 tasks of %lld ms on a pool of 5: %lld ms\n",
              static_cast<long long>(std::chrono::milliseconds(2 * kSeedSecond).count()),
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
  return seed::verdict();
}
