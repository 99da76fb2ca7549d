// Seed 003, "线程锁(互斥锁Mutex)", the version without a lock: 100 threads
// each print num, sleep 1 s, then do `num -= 1`; main joins them all and
// prints the final num.
//
// Shows the unprotected read-modify-write losing updates. The document
// says that on Python 2.7 the result is "not always 0": two threads both
// take num = 100, both compute 99, both store 99. In Python that happens
// when the interpreter switches threads between the bytecodes that load num
// and store it back; the twin puts a switch point there in plain sight
// (std::this_thread::yield() between the read and the write). All the
// threads sleep until the same moment — the seed's threads all start
// within a few milliseconds, so their one-second sleeps end together — and
// then crowd onto the cores at once, so a thread that yields after its read
// lets others read the same value before it writes. num is a
// std::atomic<int> read and written by two separate operations: the race
// is the lost update the seed is about, not undefined behaviour.
// (seed001_gil_counter opens the window with a Barrier and loses 99.)
//
// Checks that updates were lost: the final num is above 0. The scheduler
// decides how many; should a run lose none, the twin runs the program again
// (at most 10 times). seed003_lock_counter is this program with a lock.
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
constexpr int kMaxRuns = 10;

std::atomic<int> num{100};  // 设定一个共享变量

void addNum(std::chrono::steady_clock::time_point wake_up) {
  std::printf("--get num: %d\n", num.load());
  std::this_thread::sleep_until(wake_up);  // time.sleep(1), ending together for every thread
  const int value = num.load();  // num -= 1, as a separate read ...
  std::this_thread::yield();     // ... a point where another thread may run ...
  num.store(value - 1);          // ... and write, with no lock around them
}

int program() {
  num = 100;
  const auto wake_up = std::chrono::steady_clock::now() + 1 * kSeedSecond;
  std::deque<weft::Thread> thread_list;
  for (int i = 0; i < 100; ++i) thread_list.emplace_back(addNum, wake_up).start();

  for (auto& t : thread_list) t.join();  // 等待所有线程执行完毕

  std::printf("final num: %d\n", num.load());
  return num.load();
}

int main() {
  int final_num = 0;
  for (int run = 1; run <= kMaxRuns && final_num == 0; ++run) {
    if (run > 1) std::printf("-- no update was lost that time; running the program again --\n");
    final_num = program();
  }
  std::printf("lost updates: %d of 100\n", final_num);
  seed::check(final_num > 0 && final_num < 100,
              "without a lock updates were lost: final num is above 0");
  return seed::verdict();
}
