// Seed 001, 协程 ("单线程下实现并发"): with monkey.patch_all() ("加上之后才能监测
// 所有的io行为"), play(name) prints, time.sleep(5)s and prints again; eat(name)
// the same with time.sleep(3). play('jack') and eat('jack') run one after
// the other; then g1 = spawn(play, 'jason') and g2 = spawn(eat, 'jason')
// ("异步提交"), g1.join(), g2.join(), and print('主', time.time() - start).
//
// Shows weft::green::monkey::patch_all(): play and eat call the ordinary
// blocking std::this_thread::sleep_for — unmodified code, Python's
// time.sleep — and inside a spawned greenlet that sleep parks the greenlet
// on the hub instead of blocking the thread. So jack's calls take 3 + 5
// seed seconds, but jason's two greenlets sleep at the same time on one
// thread: 5, not 8 ("单线程下实现并发,提升效率"), and eat ends before play.
//
// Time: one seed second is 100 ms, so time.sleep(5) is 500 ms; '主' prints
// the elapsed wall time in (real) seconds, as the seed does.
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::duration<double> kSeedSecond = 100ms;

std::vector<std::string> printed;

void say(const std::string& name, const char* what) {
  std::printf("%s %s\n", name.c_str(), what);
  printed.push_back(name + " " + what);
}

void play(const std::string& name) {
  say(name, "play 1");
  std::this_thread::sleep_for(5 * kSeedSecond);
  say(name, "play 2");
}

void eat(const std::string& name) {
  say(name, "eat 1");
  std::this_thread::sleep_for(3 * kSeedSecond);
  say(name, "eat 2");
}

int main() {
  green::monkey::patch_all();  // 固定代码格式,加上之后才能监测所有的io行为

  const auto start = Clock::now();
  play("jack");
  eat("jack");
  const std::chrono::duration<double> serial = Clock::now() - start;

  const auto spawned_at = Clock::now();
  auto g1 = green::spawn(play, std::string("jason"));  // 异步提交
  auto g2 = green::spawn(eat, std::string("jason"));   // 异步提交
  g1.join();
  g2.join();  // 等待被监测的任务执行完毕
  const std::chrono::duration<double> together = Clock::now() - spawned_at;

  std::printf("主 %.6f\n", std::chrono::duration<double>(Clock::now() - start).count());
  std::printf("jack: %.2f seed seconds one after the other; jason: %.2f seed seconds in greenlets\n",
              serial / kSeedSecond, together / kSeedSecond);

  seed::check(serial >= 8 * kSeedSecond, "jack's play and eat ran one after the other: 5 + 3 seed seconds");
  seed::check(together >= 5 * kSeedSecond && together < 7.5 * kSeedSecond,
              "jason's greenlets slept at the same time on one thread: about 5 seed seconds, not 8");
  const std::vector<std::string> jason(printed.begin() + 4, printed.end());
  seed::check(jason == std::vector<std::string>{"jason play 1", "jason eat 1", "jason eat 2", "jason play 2"},
              "the patched time.sleep switched greenlets: play 1, eat 1, eat 2, play 2");
  return seed::verdict();
}
