// Seed 004, 生产者消费者模型 with JoinableQueue: producers put their items
// and then q.join() — they wait until every item has been task_done() by a
// consumer; the consumers are daemons looping on q.get(); the main process
// joins the producers and ends, and the daemon consumers end with it. No
// end-of-stream None is needed, however many consumers there are.
//
// Time: one seed second is 20 ms; eating takes a random 0–1 s (seeded).
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

void consumer(mp::JoinableQueue<std::string> q, mp::Queue<std::string> eaten) {
  std::mt19937 random(static_cast<unsigned>(mp::current_process().pid().value_or(0)));
  for (;;) {
    const std::string item = q.get();
    std::this_thread::sleep_for(kSeedSecond * std::uniform_real_distribution(0.0, 1.0)(random));
    std::printf("%s 吃 %s\n", mp::current_process().name().c_str(), item.c_str());
    std::fflush(stdout);
    eaten.put(item);
    q.task_done();  // 向q.join()发送一次信号,证明一个数据已经被取走了
  }
}

void producer(std::string food, mp::JoinableQueue<std::string> q) {
  for (int i = 0; i < 3; ++i) {
    const std::string item = food + std::to_string(i);
    q.put(item);
    std::printf("%s 生产了 %s\n", mp::current_process().name().c_str(), item.c_str());
  }
  std::fflush(stdout);
  q.join();  // 生产完毕,等到消费者把自己放入队列中的所有的数据都取走之后,生产者才结束
}

int main() {
  mp::JoinableQueue<std::string> q;
  mp::Queue<std::string> eaten;
  std::vector<mp::Process> producers;
  producers.reserve(3);
  for (const char* food : {"包子", "骨头", "泔水"}) producers.emplace_back(producer, food, q);
  std::vector<mp::Process> consumers;
  consumers.reserve(2);
  for (int i = 0; i < 2; ++i) {
    consumers.emplace_back(consumer, q, eaten).set_daemon(true);
  }
  for (auto& p : producers) p.start();
  for (auto& c : consumers) c.start();
  for (auto& p : producers) p.join();
  std::printf("主进程结束\n");

  std::vector<std::string> all;
  while (auto item = eaten.try_get()) all.push_back(*item);
  seed::check(all.size() == 9 && q.unfinished_tasks() == 0,
              "every one of the 9 items was eaten before the producers ended");
  return seed::verdict();
}
