// Seed 003, 进程池 ("进程池内部维护一个进程序列,当使用时,则去进程池中获取一个进程,
// 如果进程池序列中没有可供使用的进进程,那么程序就会等待"): Pool(5); Foo(i) sleeps
// 5 s, prints '第%s次' % i and returns i+100; Bar(arg) prints 'what-->' arg;
// the main process submits Foo(i) for i in 0..9 with
// apply_async(func=Foo, args=(i,), callback=Bar), prints 'end', then
// close() and join() ("进程池中进程执行完毕后再关闭,如果注释,那么程序直接关闭").
// The two commented-out lines, pool.apply(Foo, (1,)) and
// pool.apply_async(func=Foo, args=(1,)).get(), run too, after join(), on a
// second pool.
//
// Shows that apply_async returns at once ('end' is printed before any
// task has finished), that the callback Bar receives every return value in
// the main process, that 5 workers run the 10 tasks in two rounds (the
// other five wait for a free process), and that apply() and
// apply_async().get() both give 101.
//
// Time: one seed second is 20 ms, so time.sleep(5) is 100 ms.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <weft/multiprocessing.hpp>
#include <weft/mp/pool.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace mp = weft::mp;

constexpr auto kSeedSecond = 20ms;

int Foo(int i) {
  std::this_thread::sleep_for(5 * kSeedSecond);
  std::printf("第%d次\n", i);
  return i + 100;
}

std::mutex bar_mutex;
std::set<int> bar_args;
std::set<pid_t> bar_pids;

void Bar(int arg) {
  std::printf("what--> %d\n", arg);
  std::lock_guard held(bar_mutex);
  bar_args.insert(arg);
  bar_pids.insert(::getpid());
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before the workers fork
  std::size_t done_at_end = 0;
  std::chrono::steady_clock::duration elapsed{};
  {
    mp::Pool pool(5);  // 创建5个有进程的进程池
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 10; ++i) pool.apply_async(Foo, std::tuple{i}, Bar);  // callback是回调
    {
      std::lock_guard held(bar_mutex);
      done_at_end = bar_args.size();
    }
    std::printf("end\n");
    pool.close();  // 先写close,再写join
    pool.join();   // 进程池中进程执行完毕后再关闭
    elapsed = std::chrono::steady_clock::now() - start;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  std::printf("10 tasks of %lld ms on 5 processes took %lld ms\n",
              static_cast<long long>((5 * kSeedSecond).count()), static_cast<long long>(ms));

  mp::Pool pool(5);
  const int applied = pool.apply(Foo, std::tuple{1});
  const int got = pool.apply_async(Foo, std::tuple{1}).get();
  std::printf("%d\n%d\n", applied, got);

  std::set<int> expected;
  for (int i = 0; i < 10; ++i) expected.insert(i + 100);
  seed::check(done_at_end == 0, "apply_async returned at once: 'end' came before any task finished");
  seed::check(bar_args == expected, "the callback Bar got every return value, 100 to 109");
  seed::check(bar_pids == std::set<pid_t>{::getpid()}, "Bar ran in the main process");
  seed::check(elapsed >= 2 * 5 * kSeedSecond && elapsed < 8 * 5 * kSeedSecond,
              "5 processes ran the 10 tasks in two rounds: the other five waited for a free one");
  seed::check(applied == 101 && got == 101, "pool.apply(Foo, (1,)) and apply_async(...).get() gave 101");
  return seed::verdict();
}
