// Seed 003, "Events" (红绿灯): a light thread cycles green (10 s), yellow
// (3 s), red (7 s) and keeps a threading.Event set while cars may drive;
// three car threads wake at random and either drive (event set) or wait for
// the red light (event clear).
//
// Shows weft::Event: set(), clear(), is_set() steering other threads. The
// seed runs forever; the twin runs the light for two full cycles, then sets
// a second Event, `stop`, that the cars sleep on (instead of
// time.sleep), so every thread ends promptly and is joined. It checks that
// the cars both drove on green and waited on red.
//
// Time: one seed second is 20 ms, so a light cycle takes 420 ms. Each car's
// random sleeps come from its own seeded generator.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <random>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;
constexpr int kLightCycles = 2;

weft::Event event;  // set: green (or yellow), cars may drive
weft::Event stop;   // the twin's end of the run
std::atomic<int> drove{0}, waited{0};

void light() {
  if (!event.is_set()) event.set();  // wait就不阻塞 #绿灯状态
  int count = 0;
  int cycles = 0;
  while (cycles < kLightCycles) {
    if (count < 10) {
      std::printf("\033[42;1m--green light on---\033[0m\n");
    } else if (count < 13) {
      std::printf("\033[43;1m--yellow light on---\033[0m\n");
    } else if (count < 20) {
      if (event.is_set()) event.clear();
      std::printf("\033[41;1m--red light on---\033[0m\n");
    } else {
      count = 0;
      event.set();  // 打开绿灯
      ++cycles;
    }
    std::this_thread::sleep_for(1 * kSeedSecond);
    ++count;
  }
  stop.set();
}

void car(int n) {
  std::mt19937 rng(1000 + n);
  std::uniform_int_distribution<int> seconds(0, 9);  // random.randrange(10)
  while (!stop.wait(seconds(rng) * kSeedSecond)) {
    if (event.is_set()) {  // 绿灯
      std::printf("car [%d] is running..\n", n);
      drove.fetch_add(1);
    } else {
      std::printf("car [%d] is waiting for the red light..\n", n);
      waited.fetch_add(1);
    }
  }
}

int main() {
  {
    weft::Thread Light(light);
    Light.start();
    std::deque<weft::Thread> cars;
    for (int i = 0; i < 3; ++i) cars.emplace_back(car, i).start();
  }  // the light stops after its cycles, the cars on `stop`; all are joined here

  std::printf("light ran %d cycles; cars drove %d times and waited %d times\n", kLightCycles,
              drove.load(), waited.load());
  seed::check(drove.load() > 0, "cars drove while the light was green");
  seed::check(waited.load() > 0, "cars waited while the light was red");
  return seed::verdict();
}
