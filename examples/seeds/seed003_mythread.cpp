// Seed 003, "继承式调用": class MyThread(threading.Thread) overriding run(),
// two instances started.
//
// Shows subclassing weft::Thread and overriding run(). A subclass must be
// joined before it is destroyed (its members would be gone while run() still
// uses them), so main joins both threads — what Python's interpreter does
// for non-daemon threads at exit anyway.
//
// Time: one seed second is 20 ms, so time.sleep(3) is 60 ms.
#include <chrono>
#include <cstdio>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

struct MyThread : weft::Thread {
  explicit MyThread(int num) : num(num) {}

  void run() override {  // 定义每个线程要运行的函数
    std::printf("running on number:%d\n", num);
    std::this_thread::sleep_for(3 * kSeedSecond);
    done = true;
  }

  int num;
  bool done = false;  // written by the thread, read after join()
};

int main() {
  MyThread t1(1);
  MyThread t2(2);
  t1.start();
  t2.start();

  t1.join();
  t2.join();
  seed::check(t1.done && t2.done, "both overridden run() methods ran to the end");
  return seed::verdict();
}
