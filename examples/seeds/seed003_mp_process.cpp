// Seed 003, 多进程multiprocessing: the first two programs. f('bob') runs in
// a child that sleeps 2 s and prints "hello bob" while the parent joins it;
// then info(title) prints the module name, the parent's pid and its own pid
// from the main process and from the child.
//
// Shows that a Process runs its target in another process (its own pid,
// whose parent is us) and that join() waits for it. Time: one seed second
// is 20 ms. Python's `__name__` is '__main__' in the parent and
// '__mp_main__' in a spawned child; weft prints the process's name.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

void say_hello(std::string name) {
  std::this_thread::sleep_for(2 * kSeedSecond);
  std::printf("hello %s\n", name.c_str());
}

void info(const std::string& title) {
  std::printf("%s\n", title.c_str());
  std::printf("module name: %s\n", mp::current_process().name().c_str());
  std::printf("parent process: %d\n", static_cast<int>(::getppid()));
  std::printf("process id: %d\n", static_cast<int>(::getpid()));
  std::printf("\n\n\n");
}

// The child reports its pid and parent's pid through a Queue, so that the
// parent can check them.
void f(std::string name, mp::Queue<std::pair<int, int>> ids) {
  info("\033[31;1mfunction f\033[0m");
  std::printf("hello %s\n", name.c_str());
  ids.put({static_cast<int>(::getpid()), static_cast<int>(::getppid())});
}

int main() {
  const auto started = std::chrono::steady_clock::now();
  mp::Process first(say_hello, "bob");
  first.start();
  first.join();
  seed::check(std::chrono::steady_clock::now() - started >= 2 * kSeedSecond &&
                  first.exitcode() == 0,
              "join() waited for the child's 2 seconds and its hello");

  info("\033[32;1mmain process line\033[0m");
  std::fflush(stdout);
  mp::Queue<std::pair<int, int>> ids;
  mp::Process p(f, "bob", ids);
  p.start();
  // Drain the Queue before join(): a child that has put an item does not
  // end until the item is flushed into the pipe (Python's "joining processes
  // that use queues" rule), so join() first could wait forever.
  const auto [child, parent] = ids.get();
  p.join();
  seed::check(child == p.pid() && child != ::getpid() && parent == ::getpid(),
              "the child had a pid of its own and the main process as its parent");
  return seed::verdict();
}
