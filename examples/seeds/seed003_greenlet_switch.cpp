// Seed 003, Greenlet ("greenlet(手动触发)": switching by hand):
//
//   def test1():            def test2():
//       print 12                print 56
//       gr2.switch()            gr1.switch()
//       print 34                print 78
//       gr2.switch()
//   gr1 = greenlet(test1); gr2 = greenlet(test2); gr1.switch()
//
// Shows weft::green::greenlet: control moves only at switch_(), and each
// switch resumes a greenlet exactly where it left off, so the program
// prints 12 56 34 78. When test2 returns, control goes to its parent, the
// main greenlet that created it, so gr1.switch() returns there; test1 is
// left suspended in its second gr2.switch() (and never prints again), as in
// Python. When the last handle to gr1 goes at the end of main, GreenletExit
// is raised inside it so that its stack unwinds.
#include <cstdio>
#include <string>
#include <vector>

#include <weft/greenlet.hpp>

#include "seed_check.hpp"

namespace green = weft::green;

std::vector<std::string> printed;

void print(const char* text) {
  std::printf("%s\n", text);
  printed.emplace_back(text);
}

green::greenlet gr1, gr2;
bool test1_unwound = false;

// Notes that test1's stack was unwound (its destructors ran).
struct NoteUnwinding {
  ~NoteUnwinding() { test1_unwound = true; }
};

void test1() {
  NoteUnwinding note;
  print("12");
  gr2.switch_();
  print("34");
  gr2.switch_();
}

void test2() {
  print("56");
  gr1.switch_();
  print("78");
}

int main() {
  gr1 = green::greenlet(test1);
  gr2 = green::greenlet(test2);
  gr1.switch_();

  seed::check(printed == std::vector<std::string>{"12", "56", "34", "78"},
              "the greenlets printed 12 56 34 78, switching by hand");
  seed::check(gr2.dead() && !gr1.dead() && gr1.started(),
              "test2 ran to its end and returned to main; test1 is still suspended in gr2.switch()");
  seed::check(gr1.parent() == green::getcurrent() && gr2.parent() == green::getcurrent(),
              "both greenlets' parent is the main greenlet that created them");

  gr2 = {};
  gr1 = {};  // the last handle: GreenletExit is raised in test1
  seed::check(test1_unwound, "dropping the last handle to gr1 unwound test1's stack");
  return seed::verdict();
}
