// Seed 001, "验证GIL 的存在及功能" (验证GIL.py): 100 threads each do
// `tmp = m; tmp -= 1; m = tmp` on a global m = 100. Without a sleep Python
// prints 0 (the GIL rarely switches between the read and the write); with
// time.sleep(1) between them every thread reads 100 before any writes, and
// Python prints 99. The document's conclusion: IO between read and write
// corrupts the data even under the GIL, so add a mutex.
//
// weft has no GIL: threads really run in parallel. The twin runs
//   1. the seed's first program: the window is nanoseconds wide, so the
//      result is usually 0, but nothing guarantees it;
//   2. the seed's second program, with the sleep replaced by a weft::Barrier
//      of 100 parties between the read and the write, so every thread reads
//      before any writes — deterministically what the sleep does in Python:
//      99 updates are lost and m ends at 99;
//   3. the fix the document asks for: the read-sleep-write under a
//      weft::Lock, which always ends at 0.
// m is a std::atomic<int> read and written by two separate operations, so
// the lost updates are real but there is no undefined behaviour.
//
// Time: the seed's main waits with time.sleep(3); the twin joins instead.
// In part 3 the lock makes the 100 sleeps run one after another, so the
// seed's 1 s is 1 ms there.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr int kThreads = 100;

std::atomic<int> m{100};
weft::Barrier everyone_has_read(kThreads);
weft::Lock mutex;

void test_no_sleep() {
  int tmp = m.load();
  tmp -= 1;
  m.store(tmp);
}

void test_sleep() {
  int tmp = m.load();
  everyone_has_read.wait();  // time.sleep(1): the others read meanwhile
  tmp -= 1;
  m.store(tmp);
}

void test_locked() {
  std::lock_guard guard(mutex);
  int tmp = m.load();
  std::this_thread::sleep_for(1ms);
  tmp -= 1;
  m.store(tmp);
}

int run_program(void (*test)()) {
  m.store(100);
  std::deque<weft::Thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(test).start();
  for (auto& t : threads) t.join();
  return m.load();
}

int main() {
  const int no_sleep = run_program(test_no_sleep);
  std::printf("no sleep, no lock: %d\n", no_sleep);
  seed::check(0 <= no_sleep && no_sleep < kThreads,
              "without a lock the result is anything from 0 to 99 (Python's GIL made it 0)");

  const int slept = run_program(test_sleep);
  std::printf("everyone reads before anyone writes, no lock: %d\n", slept);
  seed::check(slept == 99,
              "all 100 threads read 100 and wrote 99: 99 updates lost, as in the seed");

  const int locked = run_program(test_locked);
  std::printf("with weft::Lock: %d\n", locked);
  seed::check(locked == 0, "with the mutex no update is lost: 0");
  return seed::verdict();
}
