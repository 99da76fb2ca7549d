// Task functions and helpers shared by the Pool and ProcessPoolExecutor
// tests. Tasks are free functions: the workers call them by reference.
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <cstdlib>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "weft/errors.hpp"
#include "weft/mp/lock.hpp"
#include "weft/mp/queues.hpp"
#include "weft/mp/sharedctypes.hpp"

namespace pool_test {

using namespace std::chrono_literals;
inline constexpr auto generous = 30s;

inline int square(int x) { return x * x; }
inline long add(long a, long b) { return a + b; }
inline std::string greet(std::string name) { return "hello " + name; }
inline int pid_of(int) { return static_cast<int>(::getpid()); }
inline void nothing() {}

inline int fail_runtime(int x) {
  if (x % 3 == 0) throw std::runtime_error("bad item " + std::to_string(x));
  return x;
}
inline int fail_value(int) { throw weft::ValueError("not a good value"); }

struct UserError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
inline int fail_user(int) { throw UserError("a user error"); }

inline int sleep_ms(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return ms;
}

// Dies the way `how` says when x == trigger; returns x otherwise.
inline int die_at(int x, int trigger, int how) {
  if (x != trigger) return x;
  if (how == 0) ::kill(::getpid(), SIGKILL);
  if (how == 1) std::abort();
  if (how == 2) ::raise(SIGSEGV);
  return x;
}

// SIGKILLs `kills` times, 5 to 20 ms apart (a random pace from `seed`),
// the worker that most recently answered (`latest_pid`, kept up to date
// by the test's callbacks). Returns after the last kill.
inline void kill_random_workers(const std::atomic<int>& latest_pid, int kills, unsigned seed) {
  std::mt19937 random(seed);
  for (int k = 0; k < kills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + random() % 15));
    if (const int pid = latest_pid.load()) ::kill(pid, SIGKILL);
  }
}

}  // namespace pool_test

namespace pool_test {

// What the initializer tests read back from a worker.
inline int initialized_times = 0;
inline int initialized_value = 0;
inline void initialize(int value) {
  ++initialized_times;
  initialized_value = value;
}
inline void initialize_fails(int) { throw weft::ValueError("cannot initialize"); }
inline std::pair<int, int> initialized(int) { return {initialized_times, initialized_value}; }

// A result that cannot be encoded: a null function pointer.
using IntFn = int (*)(int);
inline IntFn unencodable(int) { return nullptr; }

// About `micros` of work, then x squared and the worker's pid.
inline std::pair<long, int> busy_square(int x, int micros) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(micros);
  while (std::chrono::steady_clock::now() < until) {
  }
  return {static_cast<long>(x) * x, static_cast<int>(::getpid())};
}

// Python's Pool(initializer=init, initargs=(lock, queue, value)): each
// worker counts itself in `started` under `lock`, puts its pid on `pids`
// and keeps the queue for its tasks.
inline std::optional<weft::mp::Queue<int>> worker_pids;
inline void initialize_shared(weft::mp::Lock lock, weft::mp::Queue<int> pids,
                              weft::mp::Value<int> started) {
  {
    std::lock_guard guard(lock);
    ++started.get_obj();
  }
  pids.put(static_cast<int>(::getpid()));
  worker_pids = pids;
}
// The worker's pid, put on the initializer's queue as well (-1 without it).
inline int pid_on_initializer_queue(int) {
  if (!worker_pids) return -1;
  worker_pids->put(-static_cast<int>(::getpid()));
  return static_cast<int>(::getpid());
}

// What the workers put on the initializer's queue once `tasks` tasks ran:
// the pids that ran the initializer and those that ran a task.
struct InitializerTrace {
  std::set<int> initialized;
  std::multiset<int> ran_tasks;
};
inline InitializerTrace read_initializer_trace(weft::mp::Queue<int>& pids, int initialized, int tasks) {
  InitializerTrace trace;
  for (int i = 0; i < initialized + tasks; ++i) {
    const int pid = pids.get(generous);
    if (pid > 0)
      trace.initialized.insert(pid);
    else
      trace.ran_tasks.insert(-pid);
  }
  return trace;
}

}  // namespace pool_test
