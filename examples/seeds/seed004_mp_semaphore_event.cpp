// Seed 004, 信号量 and 事件. 大保健: a room with 4 beds is a Semaphore(4);
// ten people (processes) each take a bed, stay a while and leave — never
// more than four inside. 红绿灯: a light process turns an Event on (green)
// and off (red) every 2 s; cars that arrive on red print "等待" and wait()
// until green, then "通过".
//
// The twin counts the people in the room in a shared Value and checks that
// the most at once was exactly 4: never more, and the Semaphore really let
// four in together. So that "exactly" does not depend on how fast the
// processes start, the first four to get in wait (at most 10 s) on an
// mp::Event until the room has been full once before their stay; after
// that nobody waits at the gate.
//
// Time: one seed second is 20 ms; stays are seeded random.
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

void go_ktv(mp::Semaphore sem, mp::Value<int> inside, mp::Value<int> most, mp::Event room_full,
            int user) {
  std::mt19937 random(static_cast<unsigned>(user));
  sem.acquire();
  {
    std::lock_guard guard(inside);
    inside.get_obj() += 1;
    if (inside.get_obj() > most.get_obj()) most.get_obj() = inside.get_obj();
    if (inside.get_obj() == 4) room_full.set();
  }
  std::printf("user%d 走进了房间\n", user);
  std::fflush(stdout);
  room_full.wait(10s);  // the gate: returns at once once the room has been full
  std::this_thread::sleep_for(kSeedSecond * std::uniform_real_distribution(0.5, 1.0)(random));
  {
    std::lock_guard guard(inside);
    inside.get_obj() -= 1;
  }
  std::printf("user%d 走出了房间\n", user);
  std::fflush(stdout);
  sem.release();
}

void traffic_light(mp::Event e) {
  for (;;) {
    std::this_thread::sleep_for(2 * kSeedSecond);
    if (e.is_set()) {
      std::printf("\033[31m红灯亮\033[0m\n");
      e.clear();
    } else {
      std::printf("\033[32m绿灯亮\033[0m\n");
      e.set();
    }
    std::fflush(stdout);
  }
}

void car(mp::Event e, mp::Value<int> waited, int i) {
  if (!e.is_set()) {
    std::printf("car%d 等待\n", i);
    std::fflush(stdout);
    waited.value(waited.value() + 1);
    e.wait();
  }
  std::printf("car%d 通过\n", i);
  std::fflush(stdout);
}

int main() {
  mp::Semaphore sem(4);
  mp::Value<int> inside(0);
  mp::Value<int> most(0, false);
  mp::Event room_full;
  {
    std::vector<mp::Process> users;
    users.reserve(10);
    for (int i = 0; i < 10; ++i) users.emplace_back(go_ktv, sem, inside, most, room_full, i).start();
    for (auto& p : users) p.join();
  }
  std::printf("most people in the room at once: %d\n", most.get_obj());
  seed::check(most.get_obj() == 4,
              "never more than 4 people in the room with 4 beds, and 4 at once at the fullest");

  mp::Event e;
  mp::Value<int> waited(0);
  mp::Process light(traffic_light, e);
  light.set_daemon(true);
  light.start();
  std::vector<mp::Process> cars;
  cars.reserve(6);
  for (int i = 0; i < 6; ++i) {
    cars.emplace_back(car, e, waited, i).start();
    std::this_thread::sleep_for(kSeedSecond);
  }
  bool all_passed = true;
  for (auto& c : cars) {
    c.join();
    all_passed = all_passed && c.exitcode() == 0;
  }
  seed::check(all_passed && waited.value() >= 1,
              "cars that came on red waited for the Event, and every car passed");
  return seed::verdict();
}
