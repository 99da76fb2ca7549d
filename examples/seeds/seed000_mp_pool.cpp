// Seed 000, the process pool ("进程池的作用和线程中的信号量差不多,同一时间允许几个进程
// 同时运行"): Pool(3); the main process prints its pid and submits
// thre(i) for i in 0..9 with apply_async(func=thre, args=(i,), callback=g);
// thre sleeps 1 s, prints 'the process:' and its pid and returns dd+100;
// the callback g prints 'haha', the result and os.getpid() ("callback是回调
// 函数,传的参数是thre的返回值"); then close() and join() ("一定要先close再join").
//
// Shows weft::mp::Pool with apply_async and a callback: every result
// reaches the callback, which runs in the main process (its pid is the
// main pid), never more than 3 tasks run at once, and only 3 worker
// processes, none of them the main one, do all the work; join() returns
// once every task is done. A shared mp::Array counts the tasks inside
// thre at once.
//
// Time: one seed second is 50 ms, so time.sleep(1) is 50 ms.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include <weft/multiprocessing.hpp>
#include <weft/mp/pool.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;
namespace mp = weft::mp;

constexpr auto kSeedSecond = 50ms;

// [tasks inside thre now, the most there ever were, a worker pid seen
// since the last reset (unused slots are 0)]: shared with the workers,
// which are forked from this process.
mp::Array<int> board(2 + 3 + 1);

void note_worker(int pid) {
  for (std::size_t i = 2; i < board.size(); ++i) {
    if (board[i] == pid) return;
    if (board[i] == 0) {
      board[i] = pid;
      return;
    }
  }
}

int thre(int dd) {
  {
    std::lock_guard held(board);
    board[1] = std::max(board[1], ++board[0]);
    note_worker(static_cast<int>(::getpid()));
  }
  std::this_thread::sleep_for(kSeedSecond);
  std::printf("the process: %d\n", static_cast<int>(::getpid()));
  std::lock_guard held(board);
  --board[0];
  return dd + 100;
}

std::mutex seen_mutex;
std::multiset<int> callback_values;
std::set<pid_t> callback_pids;

void g(int c) {
  std::printf("haha %d %d\n", c, static_cast<int>(::getpid()));
  std::lock_guard held(seen_mutex);
  callback_values.insert(c);
  callback_pids.insert(::getpid());
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before the workers fork
  mp::Pool p_(3);  // 允许同时运行的进程数为3
  std::printf("%d\n", static_cast<int>(::getpid()));
  for (int i = 0; i < 10; ++i)
    p_.apply_async(thre, std::tuple{i}, g);  // callback是回调函数,传的参数是thre的返回值
  p_.close();
  p_.join();  // 一定要先close再join

  std::multiset<int> expected;
  for (int i = 0; i < 10; ++i) expected.insert(i + 100);
  std::set<int> workers;
  for (std::size_t i = 2; i < board.size(); ++i)
    if (board[i] != 0) workers.insert(board[i]);
  std::printf("at most %d tasks ran at once, in %zu worker processes\n", board[1], workers.size());

  seed::check(callback_values == expected,
              "the callback got every return value, 100 to 109, once each, before join() returned");
  seed::check(callback_pids == std::set<pid_t>{::getpid()},
              "the callback ran in the main process");
  seed::check(board[1] > 1 && board[1] <= 3,
              "the tasks ran in parallel, never more than 3 at once");
  seed::check(!workers.empty() && workers.size() <= 3 && !workers.contains(::getpid()),
              "at most 3 worker processes did the work, none of them the main process");
  return seed::verdict();
}
