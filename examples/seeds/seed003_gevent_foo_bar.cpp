// Seed 003, Gevent: foo and bar each print, yield with gevent.sleep(0) and
// print again; gevent.joinall([gevent.spawn(foo), gevent.spawn(bar)]).
//
// Shows weft::green::spawn, sleep(0) and joinall: a spawned greenlet runs
// only once the main greenlet waits (in joinall), and sleep(0) is an
// explicit context switch to the other ready greenlet, so the four lines
// come in the order gevent prints them:
//   Running in foo / Explicit context to bar /
//   Explicit context switch to foo again / Implicit context switch back to bar
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;

std::vector<std::string> printed;

void print(const char* text) {
  std::printf("%s\n", text);
  printed.emplace_back(text);
}

void foo() {
  print("Running in foo");
  green::sleep(0s);
  print("Explicit context switch to foo again");
}

void bar() {
  print("Explicit context to bar");
  green::sleep(0s);
  print("Implicit context switch back to bar");
}

int main() {
  const auto done = green::joinall({
      green::spawn(foo),
      green::spawn(bar),
  });

  seed::check(printed == std::vector<std::string>{"Running in foo", "Explicit context to bar",
                                                  "Explicit context switch to foo again",
                                                  "Implicit context switch back to bar"},
              "foo and bar took turns at each sleep(0), in gevent's order");
  seed::check(done.size() == 2, "joinall() returned once both greenlets had finished");
  return seed::verdict();
}
