// Seed 002, "使用 yield from 实现1个简单的async模块" (a tiny async module
// built with yield from):
//
//   import time
//   def coroutine(n):
//       print('start sleep')
//       yield time.time()+n #返回需要切换回此处的时间
//       print('end sleep')
//
//   def func(n):
//       print('1.我在函数里面')
//       yield from coroutine(n)
//
//   g1=func(8)
//   g2=func(8)
//
//   ret1=next(g1)
//   ret2=next(g2)
//
//   time_dict={ret1:g1,ret2:g2}
//   while time_dict:
//       min_time=min(time_dict)         #获取最近的时间
//       time.sleep(min_time-time.time()) #执行IO耗时操作
//       try:
//           next(time_dict[min_time])#切回到 coroutine 继续执行
//       except StopIteration:pass
//       del time_dict[min_time]     #删除
//
// Shows the idea under asyncio: a generator yields the time at which it
// wants to be resumed, and a scheduler keeps the suspended generators by
// wake-up time, sleeps until the earliest and resumes it. Both "sleeps"
// overlap, so the two generators finish after about one wait, not two.
//
// Time: the seed's 8 s wait is 0.2 s. time.time() is read from a monotonic
// clock, in seconds. The second wake-up time is a few microseconds after
// the first, so after the first sleep it has usually passed already: Python
// would raise ValueError for the negative time.sleep(); the twin sleeps 0.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <weft/aio/generator.hpp>

#include "seed_check.hpp"

namespace aio = weft::aio;

constexpr double kWait = 0.2;  // the seed's func(8)

double time_time() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void time_sleep(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(seconds, 0.0)));
}

std::vector<std::string> printed;
std::vector<double> woke_at;  // when each coroutine printed 'end sleep'

void print(const char* text) {
  std::printf("%s\n", text);
  printed.emplace_back(text);
}

aio::Generator<double> coroutine(double n) {
  print("start sleep");
  co_yield time_time() + n;  // 返回需要切换回此处的时间
  woke_at.push_back(time_time());
  print("end sleep");
}

aio::Generator<double> func(double n) {
  print("1.我在函数里面");
  co_yield aio::yield_from(coroutine(n));
}

int main() {
  const double start = time_time();
  auto g1 = func(kWait);
  auto g2 = func(kWait);

  const double ret1 = g1.next();
  const double ret2 = g2.next();

  std::map<double, aio::Generator<double>*> time_dict{{ret1, &g1}, {ret2, &g2}};
  const bool two_wake_up_times = time_dict.size() == 2;
  int stopped = 0;
  while (!time_dict.empty()) {
    const double min_time = time_dict.begin()->first;  // 获取最近的时间
    time_sleep(min_time - time_time());                // 执行IO耗时操作
    try {
      time_dict[min_time]->next();  // 切回到 coroutine 继续执行
    } catch (const aio::StopIteration&) {
      ++stopped;
    }
    time_dict.erase(min_time);  // 删除
  }
  const double elapsed = time_time() - start;
  std::printf("both generators finished after %.2f s (each waited %.2f s)\n", elapsed, kWait);

  seed::check(two_wake_up_times, "the two generators yielded two distinct wake-up times");
  seed::check(printed == std::vector<std::string>{"1.我在函数里面", "start sleep", "1.我在函数里面", "start sleep",
                                                  "end sleep", "end sleep"},
              "each generator ran up to its yield, then the scheduler resumed both");
  seed::check(stopped == 2 && g1.state() == aio::GeneratorState::GEN_CLOSED &&
                  g2.state() == aio::GeneratorState::GEN_CLOSED,
              "both generators finished with StopIteration");
  seed::check(woke_at.size() == 2 && woke_at[0] >= ret1 && woke_at[1] >= ret2,
              "neither generator was resumed before its wake-up time");
  seed::check(elapsed >= kWait && elapsed < 1.9 * kWait,
              "the two waits overlapped: the whole run took about one wait, not two");
  return seed::verdict();
}
