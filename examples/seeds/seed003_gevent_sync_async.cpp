// Seed 003, 同步与异步的性能区别 (synchronous against asynchronous): task(pid)
// does gevent.sleep(0.5) and prints 'Task %s done'; synchronous() calls
// task(i) for i in 1..9 one after another; asynchronous() spawns task(i)
// for i in 0..9 and gevent.joinall()s them ("此数组被传给gevent.joinall 函数,
// 后者阻塞当前流程,并执行所有给定的greenlet").
//
// Shows the difference: the synchronous tasks wait one after another (nine
// sleeps), the spawned ones all at once (about one sleep), and joinall()
// returns only once all ten are done. The spawned tasks finish in the
// order they started sleeping, 0 to 9, as gevent prints them.
//
// Time: one seed second is 100 ms, so gevent.sleep(0.5) is 50 ms.
#include <chrono>
#include <cstdio>
#include <utility>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::duration<double> kSeedSecond = 100ms;

std::vector<int> done;

// Some non-deterministic task
void task(int pid) {
  green::sleep(0.5 * kSeedSecond);
  std::printf("Task %d done\n", pid);
  done.push_back(pid);
}

void synchronous() {
  for (int i = 1; i < 10; ++i) task(i);
}

void asynchronous() {
  std::vector<green::AnyGreenlet> threads;
  for (int i = 0; i < 10; ++i) threads.push_back(green::spawn(task, i));
  green::joinall(threads);
}

int main() {
  std::printf("Synchronous:\n");
  auto start = Clock::now();
  synchronous();
  const std::chrono::duration<double> sync_took = Clock::now() - start;
  const std::vector<int> sync_done = std::exchange(done, {});

  std::printf("Asynchronous:\n");
  start = Clock::now();
  asynchronous();
  const std::chrono::duration<double> async_took = Clock::now() - start;

  std::printf("synchronous: %.2f seed seconds, asynchronous: %.2f seed seconds\n",
              sync_took / kSeedSecond, async_took / kSeedSecond);
  seed::check(sync_done == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9} && sync_took >= 4.5 * kSeedSecond,
              "the synchronous tasks 1..9 ran one after another: nine sleeps of 0.5");
  seed::check(done == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
              "joinall() returned after all ten spawned tasks, done in order 0..9");
  seed::check(async_took >= 0.5 * kSeedSecond && async_took < sync_took / 3,
              "the ten spawned tasks slept at the same time: about one sleep of 0.5");
  return seed::verdict();
}
