// Seed 002, Asyncio模块, "执行多个协程" (run several coroutines):
//
//   async def func1(name):#async语法用于定义1个协程函数
//       print(name,'start')
//       await asyncio.sleep(1)
//       print('end')
//
//   loop=asyncio.get_event_loop()#创建1个事件循环
//   loop.run_until_complete(asyncio.wait([func('张根'),func1('小米')]))
//
// (func is the coroutine of the seed's first program, the same as func1.)
//
// Shows asyncio's concurrency on one thread: both coroutines start, both
// wait in their sleep at the same time, and the whole run takes about one
// sleep, not two. asyncio.wait() returns the done and pending tasks.
//
// Python 3.11 no longer lets asyncio.wait() take coroutines (it used to
// wrap them in tasks itself); weft's wait() takes tasks, so the twin makes
// them with loop.create_task() first, in the seed's order.
//
// Time: asyncio.sleep(1) is 0.2 s.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/asyncio.hpp>

#include "seed_check.hpp"

namespace aio = weft::aio;
using namespace std::chrono_literals;

constexpr auto kSleep = 200ms;  // the seed's asyncio.sleep(1)

std::vector<std::string> printed;

void print(const std::string& text) {
  std::printf("%s\n", text.c_str());
  printed.push_back(text);
}

aio::Task<void> func(std::string name) {
  print(name + " start");
  co_await aio::sleep(kSleep);
  print("end");
}

aio::Task<void> func1(std::string name) {  // async语法用于定义1个协程函数
  print(name + " start");
  co_await aio::sleep(kSleep);
  print("end");
}

int main() {
  aio::EventLoop& loop = aio::get_event_loop();  // 创建1个事件循环
  const auto start = std::chrono::steady_clock::now();
  auto [done, pending] = loop.run_until_complete(
      aio::wait(std::vector{loop.create_task(func("张根")), loop.create_task(func1("小米"))}));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("run_until_complete took %.2f s; done: %zu tasks, pending: %zu\n", took.count(), done.size(),
              pending.size());

  seed::check(printed == std::vector<std::string>{"张根 start", "小米 start", "end", "end"},
              "both coroutines started before either ended");
  seed::check(done.size() == 2 && pending.empty(), "wait() returned both tasks done, none pending");
  seed::check(took >= kSleep && took < 1.9 * kSleep,
              "the two sleeps overlapped: the run took about one sleep, not two");
  return seed::verdict();
}
