// Seed 002, Asyncio模块, "执行1个协程" (run one coroutine):
//
//   import asyncio
//
//   async def func(name):#定义1个协程
//       print(name,'start')
//       #await 关键字出现在可能发生IO阻塞的前面
//       #await 必须卸载asyncio的函数里
//       await asyncio.sleep(1)
//       print('end')
//
//   loop=asyncio.get_event_loop()#创建1个事件循环
//   loop.run_until_complete(func('张根'))
//
// Shows the shape of asyncio in weft: `async def` is a function returning
// aio::Task<void>; calling it only makes the coroutine, which runs nothing
// until a loop runs it; `co_await` marks where it may wait (and can only be
// written inside such a function); get_event_loop() gives the thread's
// loop, and run_until_complete() runs the coroutine as a task until it is
// done.
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

aio::Task<void> func(std::string name) {  // 定义1个协程
  print(name + " start");
  // co_await 出现在可能发生IO阻塞的前面
  co_await aio::sleep(kSleep);
  print("end");
}

int main() {
  aio::EventLoop& loop = aio::get_event_loop();  // 创建1个事件循环
  aio::Task<void> coro = func("张根");
  const bool ran_early = !printed.empty();

  const auto start = std::chrono::steady_clock::now();
  loop.run_until_complete(std::move(coro));
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  std::printf("run_until_complete took %.2f s\n", took.count());

  seed::check(!ran_early, "calling func('张根') made a coroutine and ran nothing of it");
  seed::check(printed == std::vector<std::string>{"张根 start", "end"},
              "the coroutine printed '张根 start', then 'end'");
  seed::check(took >= kSleep && took < 1.9 * kSleep,
              "run_until_complete() returned after the coroutine's one sleep");
  return seed::verdict();
}
