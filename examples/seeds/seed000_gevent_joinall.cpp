// Seed 000, 协程 ("gevent(自动触发) 和 greenlet(手动触发)"): fun1 prints,
// gevent.sleep(2)s ("模仿io": standing in for IO) and prints again; fun2
// the same with sleep(3); fun3 with sleep(0);
// gevent.joinall([gevent.spawn(fun1), gevent.spawn(fun2), gevent.spawn(fun3)]).
// The document's output:
//   runing 1 ... / running 3 ... / running 5 ... / end? / running 2 ... / running 4
// "sleep相当于触发的按钮": each sleep switches to the next greenlet that can
// run; the ones whose time is up resume in turn.
//
// Shows weft::green::spawn, sleep and joinall: exactly the seed's order,
// and the three greenlets wait together, so the whole run takes as long as
// the longest sleep (3 seed seconds), not the sum (5).
//
// Time: one seed second is 200 ms, so gevent.sleep(3) is 600 ms.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;

constexpr std::chrono::duration<double> kSeedSecond = 200ms;

std::vector<std::string> printed;

void print(const char* text) {
  std::printf("%s\n", text);
  printed.emplace_back(text);
}

void fun1() {
  print("runing 1 ...");
  green::sleep(2 * kSeedSecond);  // 模仿io
  print("running 2 ...");
}

void fun2() {
  print("running 3 ...");
  green::sleep(3 * kSeedSecond);
  print("running 4");
}

void fun3() {
  print("running 5 ...");
  green::sleep(0s);
  print("end?");
}

int main() {
  const auto start = std::chrono::steady_clock::now();
  green::joinall({green::spawn(fun1), green::spawn(fun2), green::spawn(fun3)});
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

  std::printf("joinall took %.2f seed seconds\n", took / kSeedSecond);
  seed::check(printed == std::vector<std::string>{"runing 1 ...", "running 3 ...", "running 5 ...",
                                                  "end?", "running 2 ...", "running 4"},
              "the lines came in exactly the document's order");
  seed::check(took >= 3 * kSeedSecond && took < 4.5 * kSeedSecond,
              "the greenlets slept together: about 3 seed seconds (the longest sleep), not 5");
  return seed::verdict();
}
