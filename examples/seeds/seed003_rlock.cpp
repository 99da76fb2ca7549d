// Seed 003, "RLock(递归锁)": run3 takes an RLock and, holding it, calls
// run1 and run2, which take the same lock again; ten threads run run3 while
// the main thread loops on threading.active_count() until only it is left,
// then prints num and num2.
//
// Shows weft::RLock re-entered by the thread that holds it (a plain Lock
// would deadlock in run1), and weft::active_count(). The seed prints the
// count on every spin of its busy loop; the twin prints it only when it
// changes, to keep the output readable. Expected: "10 10".
//
// Time: the seed does not sleep.
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

int num = 0, num2 = 0;  // guarded by lock
weft::RLock lock;

int run1() {
  std::printf("grab the first part data\n");
  std::lock_guard guard(lock);
  return ++num;
}

int run2() {
  std::printf("grab the second part data\n");
  std::lock_guard guard(lock);
  return ++num2;
}

void run3() {
  int res = 0, res2 = 0;
  {
    std::lock_guard guard(lock);
    res = run1();
    std::printf("--------between run1 and run2-----\n");
    res2 = run2();
  }
  std::printf("%d %d\n", res, res2);
}

int main() {
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 10; ++i) threads.emplace_back(run3).start();

  std::size_t shown = 0;
  while (weft::active_count() != 1) {
    if (const std::size_t count = weft::active_count(); count != shown && count != 1) {
      std::printf("%zu\n", count);
      shown = count;
    }
    std::this_thread::yield();
  }
  std::printf("----all threads done---\n");

  std::lock_guard guard(lock);
  std::printf("%d %d\n", num, num2);
  seed::check(num == 10 && num2 == 10, "num, num2 == 10, 10: each thread re-entered the RLock");
  return seed::verdict();
}
