// Seed 002, "yield切换功能" (switching with yield), the program before
// "yield from是什么?":
//
//   def func():
//       print('1.我在函数里面')          # 1. I am inside the function
//       yield
//       print('3.我切回函数里面来了')    # 3. I switched back into the function
//
//   g=func()
//   next(g)
//   print('2.我切到函数外面了')          # 2. I switched out of the function
//   try:
//       next(g)
//   except StopIteration:pass  #捕捉生成器 最后的StopIteration异常
//   print('4.我又切到函数外面了')        # 4. I am out of the function again
//
// Shows weft::aio::Generator: calling func() runs nothing; each next()
// runs the body up to its next co_yield (a bare `yield` is `co_yield
// None`), so control switches back and forth on one thread and the steps
// print in the order 1, 2, 3, 4; the last next() finds the body's end and
// throws StopIteration.
#include <cstdio>
#include <string>
#include <vector>

#include <weft/aio/generator.hpp>

#include "seed_check.hpp"

namespace aio = weft::aio;

std::vector<std::string> printed;

void print(const char* text) {
  std::printf("%s\n", text);
  printed.emplace_back(text);
}

aio::Generator<void> func() {
  print("1.我在函数里面");
  co_yield aio::None;
  print("3.我切回函数里面来了");
}

int main() {
  auto g = func();
  const bool ran_before_next = !printed.empty();
  g.next();
  print("2.我切到函数外面了");
  bool stopped = false;
  try {
    g.next();
  } catch (const aio::StopIteration&) {  // 捕捉生成器 最后的StopIteration异常
    stopped = true;
  }
  print("4.我又切到函数外面了");

  seed::check(!ran_before_next, "calling func() ran nothing: the body waits for next()");
  seed::check(printed == std::vector<std::string>{"1.我在函数里面", "2.我切到函数外面了",
                                                  "3.我切回函数里面来了", "4.我又切到函数外面了"},
              "the steps ran in the order 1, 2, 3, 4, switching in and out of func");
  seed::check(stopped, "the second next() ended the generator with StopIteration");
  return seed::verdict();
}
