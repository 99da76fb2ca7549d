// Seed 004, Process的join方法 and 守护进程: the main process starts several
// children and join()s them all before it goes on ("async becomes sync");
// a daemon child ends when the main program's code ends; a daemon may not
// start children ("AssertionError: daemonic processes are not allowed to
// have children").
//
// The twin runs "the main program" of the daemon lesson as a child process
// of its own, so that it can watch what happens when that program ends: the
// program starts a daemon that would run for a long time, reports the
// daemon's pid and returns; the twin then checks that the daemon is gone.
// Time: one seed second is 20 ms.
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

void work(int n) {
  std::this_thread::sleep_for(n * kSeedSecond);
  std::printf("process %d done after %d seconds\n", n, n);
  std::fflush(stdout);
}

void nap() {}

void daemon_body(mp::Queue<std::string> reports, mp::Event reported) {
  try {
    mp::Process grandchild(nap);
    grandchild.start();
    reports.put("started a child");
  } catch (const weft::RuntimeError& e) {
    reports.put(e.what());
  }
  reported.set();
  for (;;) std::this_thread::sleep_for(100 * kSeedSecond);  // a long-running daemon
}

// The main program of the daemon lesson.
void program(mp::Queue<std::string> reports, mp::Queue<int> daemon_pid) {
  mp::Event reported;
  mp::Process p(daemon_body, reports, reported);
  p.set_daemon(true);  // 必须在p.start()之前设置
  p.start();
  daemon_pid.put(*p.pid());
  reported.wait();  // the daemon has tried to start a child of its own
  std::printf("main program's code is done\n");
  std::fflush(stdout);
}

int main() {
  const auto started = std::chrono::steady_clock::now();
  std::vector<mp::Process> children;
  children.reserve(4);
  for (int i = 1; i <= 4; ++i) children.emplace_back(work, i).start();
  for (auto& p : children) p.join();
  const auto waited = std::chrono::steady_clock::now() - started;
  std::printf("main process: every child is done\n");
  seed::check(waited >= 4 * kSeedSecond, "join() made the main process wait for the slowest child");

  mp::Queue<std::string> reports;
  mp::Queue<int> daemon_pid;
  mp::Process main_program(program, reports, daemon_pid);
  main_program.start();
  const int pid = daemon_pid.get();
  const std::string refusal = reports.get();
  main_program.join();
  std::printf("the daemon said: %s\n", refusal.c_str());
  seed::check(refusal == "daemonic processes are not allowed to have children",
              "a daemon may not start children");
  const bool gone = ::kill(pid, 0) != 0 && errno == ESRCH;
  seed::check(main_program.exitcode() == 0 && gone,
              "the daemon ended with the main program's code");
  return seed::verdict();
}
