// Seed 002, "yield from是什么?" (what is yield from?):
//
//   def coroutine1(n):
//       print('我这coroutine1里面')      # I am in coroutine1
//       yield 'coroutine1'
//
//   def coroutine2(n):
//       print('我这coroutine2里面')      # I am in coroutine2
//       yield 'coroutine2'
//
//   def func(n):
//       print('我在func里面')            # I am in func
//       yield from coroutine1(n) #yield from 相当于1个中间件,可以在1个函数里面 直接 把其他生成器 yield出来
//       yield from coroutine2(n)
//
//   g=func(2)
//   ret1=next(g)
//   ret2=next(g)
//
//   print(ret1,ret2)
//
// Shows `co_yield weft::aio::yield_from(generator)`, Python's `yield from`:
// func gathers the values of the two generators it delegates to, so its
// two next() calls return 'coroutine1' then 'coroutine2', and each
// delegate's body runs only when its value is asked for.
#include <cstdio>
#include <string>
#include <vector>

#include <weft/aio/generator.hpp>

#include "seed_check.hpp"

namespace aio = weft::aio;

std::vector<std::string> printed;

void print(const std::string& text) {
  std::printf("%s\n", text.c_str());
  printed.push_back(text);
}

aio::Generator<std::string> coroutine1(int) {
  print("我这coroutine1里面");
  co_yield "coroutine1";
}

aio::Generator<std::string> coroutine2(int) {
  print("我这coroutine2里面");
  co_yield "coroutine2";
}

aio::Generator<std::string> func(int n) {
  print("我在func里面");
  // yield from 相当于1个中间件,可以在1个函数里面 直接 把其他生成器 yield出来
  co_yield aio::yield_from(coroutine1(n));
  co_yield aio::yield_from(coroutine2(n));
}

int main() {
  auto g = func(2);
  const std::string ret1 = g.next();
  const std::string ret2 = g.next();

  print(ret1 + " " + ret2);

  seed::check(ret1 == "coroutine1" && ret2 == "coroutine2",
              "func yielded 'coroutine1' then 'coroutine2' from the generators it delegated to");
  seed::check(printed == std::vector<std::string>{"我在func里面", "我这coroutine1里面", "我这coroutine2里面",
                                                  "coroutine1 coroutine2"},
              "each delegate ran only when func was asked for its value");
  return seed::verdict();
}
