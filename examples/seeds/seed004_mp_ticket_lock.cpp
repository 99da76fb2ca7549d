// Seed 004, 进程同步(锁), 模拟抢票: ten processes first look up the
// remaining tickets in a "database" file ({"count": 1}), all at once, then
// try to buy one; buying re-reads the count, waits for the network (0.1 s),
// and writes count - 1 back. With the purchase inside a Lock, exactly one
// process succeeds and the file ends at 0 — without it, several would
// "buy" the single ticket.
//
// Time: one seed second is 20 ms. The file lives in a fresh temporary
// directory.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

int read_count(const std::string& db) {
  std::ifstream in(db);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  return std::atoi(json.c_str() + json.find(':') + 1);
}

void write_count(const std::string& db, int count) {
  std::ofstream(db) << "{\"count\": " << count << "}";
}

void search(const std::string& db) {
  std::printf("%s 查看到剩余票数 %d\n", mp::current_process().name().c_str(), read_count(db));
}

void get(const std::string& db, mp::Value<int>& sold) {
  const int count = read_count(db);
  std::this_thread::sleep_for(kSeedSecond / 10);  // 模拟网络延迟
  if (count > 0) {
    write_count(db, count - 1);
    sold.get_obj() += 1;
    std::printf("%s 购票成功\n", mp::current_process().name().c_str());
  }
}

void task(std::string db, mp::Lock lock, mp::Value<int> sold) {
  search(db);
  std::lock_guard guard(lock);
  get(db, sold);
}

int main() {
  char dir_template[] = "/tmp/weft-tickets-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string db = dir + "/db.json";
  write_count(db, 1);

  mp::Lock lock;
  mp::Value<int> sold(0, false);
  std::vector<mp::Process> buyers;
  buyers.reserve(10);
  for (int i = 0; i < 10; ++i) buyers.emplace_back(task, db, lock, sold).start();
  for (auto& p : buyers) p.join();
  std::fflush(stdout);

  const int left = read_count(db);
  std::filesystem::remove_all(dir);
  seed::check(sold.get_obj() == 1 && left == 0,
              "with the Lock exactly one process bought the last ticket");
  return seed::verdict();
}
