// Seed 003, "线程锁(互斥锁Mutex)", 加锁版本: the same 100 threads, but each
// takes a threading.Lock around `num -= 1`.
//
// Shows weft::Lock making the read-modify-write safe: the final num is
// always 0. `with lock:` / acquire()+release() is std::lock_guard in C++.
// The program is seed003_unlocked_counter's, with the lock added: the
// threads' sleeps end at the same moment, and the update is the same
// separate read and write with a switch point between them (where the
// unlocked version loses updates), now inside the lock, so a thread that
// is switched out there still holds the lock and no other thread can read
// num before it has written. num is a std::atomic<int> only because the
// seed prints it unlocked ('--get num:').
//
// Time: one seed second is 20 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

std::atomic<int> num{100};  // 设定一个共享变量
weft::Lock lock;            // 生成全局锁

void addNum(std::chrono::steady_clock::time_point wake_up) {
  std::printf("--get num: %d\n", num.load());
  std::this_thread::sleep_until(wake_up);  // time.sleep(1), ending together for every thread
  std::lock_guard guard(lock);             // 修改数据前加锁, 修改后释放
  const int value = num.load();
  std::this_thread::yield();
  num.store(value - 1);
}

int main() {
  const auto wake_up = std::chrono::steady_clock::now() + 1 * kSeedSecond;
  std::deque<weft::Thread> thread_list;
  for (int i = 0; i < 100; ++i) thread_list.emplace_back(addNum, wake_up).start();

  for (auto& t : thread_list) t.join();  // 等待所有线程执行完毕

  std::printf("final num: %d\n", num.load());
  seed::check(num.load() == 0, "with the lock no update is lost: final num is 0");
  return seed::verdict();
}
