// Seed 004, 进程同步(锁), 模拟抢票: ten processes first look up the
// remaining tickets in a "database" file ({"count": 1}), all at once, then
// try to buy one; buying re-reads the count, waits for the network (0.1 s),
// and writes count - 1 back. Without a lock several processes "buy" the
// single ticket (每个人都买到了票); with the purchase inside a Lock exactly
// one succeeds and the file ends at 0 — "牺牲了速度却保证了数据安全".
//
// The twin runs both, each with a fresh file holding one ticket. The ten
// buyers meet at an mp::Barrier after search() — ten people pressing 购买
// at the same moment — so every one of them has seen the one ticket before
// anyone buys, and without the lock every one of them reads count 1 before
// the first write lands (a buyer's read and write are a network delay
// apart): the race is shown every time, not only when the scheduler allows.
// Sales are counted in a shared mp::Value, under its own lock.
//
// Time: one seed second is 20 ms. The file lives in a fresh temporary
// directory.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;
constexpr int kBuyers = 10;

int read_count(const std::string& db) {
  std::ifstream in(db);
  std::string json((std::istreambuf_iterator<char>(in)), {});
  return std::atoi(json.c_str() + json.find(':') + 1);
}

void write_count(const std::string& db, int count) {
  std::ofstream(db) << "{\"count\": " << count << "}";
}

void search(const std::string& db, mp::Value<int>& saw_ticket) {
  const int count = read_count(db);
  std::printf("%s 查看到剩余票数 %d\n", mp::current_process().name().c_str(), count);
  std::fflush(stdout);
  if (count > 0) {
    std::lock_guard guard(saw_ticket);
    saw_ticket.get_obj() += 1;
  }
}

void get(const std::string& db, mp::Value<int>& sold) {
  const int count = read_count(db);
  std::this_thread::sleep_for(kSeedSecond / 10);  // 模拟网络延迟
  if (count > 0) {
    write_count(db, count - 1);
    {
      std::lock_guard guard(sold);
      sold.get_obj() += 1;
    }
    std::printf("%s 购票成功\n", mp::current_process().name().c_str());
    std::fflush(stdout);
  }
}

void task(std::string db, mp::Lock lock, bool use_lock, mp::Barrier press_buy,
          mp::Value<int> saw_ticket, mp::Value<int> sold) {
  search(db, saw_ticket);
  press_buy.wait(10s);  // bounded: a buyer that never comes breaks the barrier
  if (use_lock) {
    std::lock_guard guard(lock);
    get(db, sold);
  } else {
    get(db, sold);
  }
}

struct Outcome {
  int saw_ticket = 0;
  int sold = 0;
  int left = 0;
  bool all_exited_0 = true;
};

Outcome sell_one_ticket(bool use_lock) {
  std::printf("== %s ==\n", use_lock ? "with an mp::Lock around get()" : "without a lock");
  std::fflush(stdout);
  char dir_template[] = "/tmp/weft-tickets-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string db = dir + "/db.json";
  write_count(db, 1);

  mp::Lock lock;
  mp::Barrier press_buy(kBuyers);
  mp::Value<int> saw_ticket(0), sold(0);
  std::vector<mp::Process> buyers;
  buyers.reserve(kBuyers);
  for (int i = 0; i < kBuyers; ++i)
    buyers.emplace_back(task, db, lock, use_lock, press_buy, saw_ticket, sold).start();
  Outcome outcome;
  for (auto& p : buyers) {
    p.join();
    outcome.all_exited_0 = outcome.all_exited_0 && p.exitcode() == 0;
  }
  outcome.saw_ticket = saw_ticket.value();
  outcome.sold = sold.value();
  outcome.left = read_count(db);
  std::filesystem::remove_all(dir);
  std::printf("%d buyers saw the one ticket, %d bought it, the file says %d left\n",
              outcome.saw_ticket, outcome.sold, outcome.left);
  return outcome;
}

int main() {
  const Outcome unlocked = sell_one_ticket(false);
  seed::check(unlocked.all_exited_0 && unlocked.saw_ticket == kBuyers && unlocked.sold > 1,
              "without a lock the one ticket was sold more than once");

  const Outcome locked = sell_one_ticket(true);
  seed::check(locked.all_exited_0 && locked.saw_ticket == kBuyers,
              "all ten buyers saw the one ticket before anyone bought");
  seed::check(locked.sold == 1 && locked.left == 0,
              "with the Lock exactly one process bought the last ticket");
  return seed::verdict();
}
