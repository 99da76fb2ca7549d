// Seed 004, 7.数据共享, the Manager module: "多进程共同去处理共享数据的时候,
// 就和我们多进程同时去操作一个文件中的数据是一样的,不加锁就会出现错误的结果,
// 进程不安全的,所以也需要加锁" — processes that change a Manager's data at
// the same time get wrong results without a lock, just as with a shared
// file. The document's classic program for it:
//
//   def work(d, lock):
//       with lock:  # 不加锁而操作共享的数据,肯定会出现数据错乱
//           d['count'] -= 1
//   with Manager() as m:
//       dic = m.dict({'count': 100})
//       ... 100 × Process(target=work, args=(dic, lock)), start, join
//       print(dic)
//
// Shows why: `d['count'] -= 1` on a proxy is two calls to the manager's
// server, a getitem and a setitem, and another process may read the count
// between them; its update then overwrites ours. The twin runs the program
// with 20 processes and {'count': 20}, first without the lock, then with
// an mp::Lock around the update. The processes meet at an mp::Barrier
// first, so that all of them update at the same moment (the seed's
// processes, started in a loop, mostly do not overlap on a fast machine).
// Without the lock the count ends above 0 — the scheduler decides how far
// above, and should a run lose nothing the twin runs it again (at most 5
// times); with the lock it ends at 0, every time.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/mp/managers.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;
using Dict = mp::DictProxy<std::string, int>;

constexpr int kProcesses = 20;
constexpr int kMaxRuns = 5;

void work(Dict d, mp::Lock lock, bool use_lock, mp::Barrier together) {
  together.wait(10s);  // bounded: a process that never comes breaks the barrier
  if (use_lock) {
    std::lock_guard guard(lock);
    d.setitem("count", d.getitem("count") - 1);  // d['count'] -= 1
  } else {
    d.setitem("count", d.getitem("count") - 1);  // d['count'] -= 1, unprotected
  }
}

// One run of the program; returns the final count, or -1 if a process failed.
int program(bool use_lock) {
  mp::Lock lock;
  mp::Barrier together(kProcesses);
  mp::Manager m;  // with Manager() as m:
  const Dict dic = m.dict<std::string, int>({{"count", kProcesses}});
  std::vector<mp::Process> p_l;
  p_l.reserve(kProcesses);
  for (int i = 0; i < kProcesses; ++i) p_l.emplace_back(work, dic, lock, use_lock, together).start();
  bool all_exited_0 = true;
  for (auto& p : p_l) {
    p.join();
    all_exited_0 = all_exited_0 && p.exitcode() == 0;
  }
  const int count = dic.getitem("count");
  std::printf("{'count': %d}\n", count);  // print(dic)
  return all_exited_0 ? count : -1;
}

int main() {
  std::printf("== without a lock ==\n");
  int unlocked = 0;
  for (int run = 1; run <= kMaxRuns && unlocked == 0; ++run) {
    if (run > 1) std::printf("-- no update was lost that time; running the program again --\n");
    unlocked = program(false);
  }
  std::printf("lost updates: %d of %d\n", unlocked, kProcesses);
  seed::check(unlocked > 0 && unlocked < kProcesses,
              "without a lock the Manager's dict lost updates: the count ended above 0");

  std::printf("== with an mp::Lock around d['count'] -= 1 ==\n");
  const int locked = program(true);
  seed::check(locked == 0, "with the Lock no update was lost: {'count': 0}");
  return seed::verdict();
}
