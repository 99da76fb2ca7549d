// Seed 003, the 10-thread example after "Threading用于提供线程相关的操作":
// show(arg) sleeps 1 s and prints 'thread'+arg; ten threads start and the
// main thread prints 'main thread stop'.
//
// Shows ten "前台" (foreground, non-daemon) threads: the main thread reaches
// its last line while they are still sleeping, and the program then waits
// for all of them. Python rebinds `t` on every loop; a weft::Thread joins when
// destroyed, so the twin keeps the ten in a container that is destroyed (and
// so joined) after 'main thread stop'.
//
// Time: one seed second is 50 ms (a little more than the other twins, so the
// check that the threads are still running when main stops has slack).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 50ms;

std::atomic<int> printed{0};

void show(int arg) {
  std::this_thread::sleep_for(1 * kSeedSecond);
  std::printf("thread%d\n", arg);
  printed.fetch_add(1);
}

int main() {
  {
    std::deque<weft::Thread> threads;
    for (int i = 0; i < 10; ++i) threads.emplace_back(show, i).start();

    std::printf("main thread stop\n");
    seed::check(printed.load() < 10,
                "the main thread stopped while foreground threads were still running");
  }  // the foreground threads are joined here

  seed::check(printed.load() == 10, "the program waited for all 10 foreground threads");
  return seed::verdict();
}
