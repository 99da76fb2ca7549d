// Seed 003, "Semaphore(信号量)": threading.BoundedSemaphore(5) shared by 20
// threads, each holding it for 1 s; the main thread spins on
// threading.active_count() until they are done.
//
// Shows weft::BoundedSemaphore admitting at most 5 threads at once ("厕所有
// 3个坑": the others queue until someone leaves). The twin counts the threads
// inside with an atomic and records the largest count seen; it checks that
// the largest count is exactly 5 — never more, and the semaphore really let
// five in together — and that all 20 threads ran. So that "exactly" does
// not depend on how fast the threads start, the first five to get in wait
// (at most 10 s) until the room has been full once before their 1 s stay;
// after that nobody waits at the gate.
//
// Time: one seed second is 20 ms, so the 20 threads take about 4 x 20 ms.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

weft::BoundedSemaphore semaphore(5);  // 最多允许5个线程同时运行
std::atomic<int> inside{0}, max_inside{0}, ran{0};
weft::Event room_full;  // set once 5 threads are inside at the same time

void run(int n) {
  semaphore.acquire();
  const int now = inside.fetch_add(1) + 1;
  int seen = max_inside.load();
  while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
  }
  if (now == 5) room_full.set();
  room_full.wait(10s);  // the gate: returns at once once the room has been full
  std::this_thread::sleep_for(1 * kSeedSecond);
  std::printf("run the thread: %d\n\n", n);
  ran.fetch_add(1);
  inside.fetch_sub(1);
  semaphore.release();
}

int main() {
  int num = 0;
  std::deque<weft::Thread> threads;
  for (int i = 0; i < 20; ++i) threads.emplace_back(run, i).start();

  while (weft::active_count() != 1) std::this_thread::yield();
  std::printf("----all threads done---\n");
  std::printf("%d\n", num);

  std::printf("most threads inside the semaphore at once: %d\n", max_inside.load());
  seed::check(max_inside.load() == 5,
              "never more than 5 threads inside BoundedSemaphore(5), and 5 at once at the fullest");
  seed::check(ran.load() == 20, "all 20 threads got their turn");
  return seed::verdict();
}
