// Seed 003, "直接调用": sayhi(num) run by two
// threading.Thread(target=sayhi, args=(n,)) threads; the main thread prints
// their names with getName().
//
// Shows a weft::Thread built from a target and its arguments, start(), and
// name() (Python's getName(): "Thread-N"). Like Python's interpreter, the
// program does not end before its non-daemon threads do: a weft::Thread
// built from a target joins on destruction.
//
// Time: one seed second is 20 ms, so time.sleep(3) is 60 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

std::atomic<int> finished{0};

void sayhi(int num) {  // 定义每个线程要运行的函数
  std::printf("running on number:%d\n", num);
  std::this_thread::sleep_for(3 * kSeedSecond);
  finished.fetch_add(1);
}

int main() {
  {
    weft::Thread t1(sayhi, 1);  // 生成一个线程实例
    weft::Thread t2(sayhi, 2);  // 生成另一个线程实例

    t1.start();  // 启动线程
    t2.start();  // 启动另一个线程

    std::printf("%s\n", t1.name().c_str());  // 获取线程名
    std::printf("%s\n", t2.name().c_str());

    seed::check(t1.name().starts_with("Thread-") && t2.name().starts_with("Thread-") &&
                    t1.name() != t2.name(),
                "the threads got distinct default names Thread-N");
  }  // t1 and t2 are joined here, as Python waits for them at exit

  seed::check(finished.load() == 2, "both threads ran sayhi before the program ended");
  return seed::verdict();
}
