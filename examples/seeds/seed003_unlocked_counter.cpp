// Seed 003, "线程锁(互斥锁Mutex)", the version without a lock: 100 threads
// each print num, sleep 1 s, then do `num -= 1`; main joins them all and
// prints the final num.
//
// Shows the unprotected read-modify-write. The document says that on
// Python 2.7 the result is "not always 0" and that Python 3 always printed 0.
// C++ has no GIL, but here too the read and the write of `num -= 1` are only
// nanoseconds apart, so a run usually loses nothing — which is exactly how
// such bugs hide. (seed001_gil_counter forces the window open and loses 99
// updates every time.) num is a std::atomic<int> read and written by two
// separate operations: the race is the lost update the seed is about, not
// undefined behaviour. The twin checks that the result is between 0 and 99
// and says how many updates were lost this time.
//
// Time: one seed second is 20 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

std::atomic<int> num{100};  // 设定一个共享变量

void addNum() {
  std::printf("--get num: %d\n", num.load());
  std::this_thread::sleep_for(1 * kSeedSecond);
  const int value = num.load();  // num -= 1, as a separate read ...
  num.store(value - 1);          // ... and write, with no lock between them
}

int main() {
  std::deque<weft::Thread> thread_list;
  for (int i = 0; i < 100; ++i) thread_list.emplace_back(addNum).start();

  for (auto& t : thread_list) t.join();  // 等待所有线程执行完毕

  const int final_num = num.load();
  std::printf("final num: %d\n", final_num);
  std::printf("lost updates this run: %d (without a lock nothing guarantees 0)\n", final_num);
  seed::check(0 <= final_num && final_num < 100,
              "every thread's update either landed or was lost, none was invented");
  return seed::verdict();
}
