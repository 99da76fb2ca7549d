// Seed 003, "Join & Daemon": a thread m, made a daemon with setDaemon(True),
// runs main(), which starts five threads running run(n) (2 s each) and
// joins each with a 1 s timeout; the main thread starts m, prints
// "---main thread done----" and exits.
//
// Shows daemon threads: the program ends as soon as the main thread is done
// and does not wait for m, nor for the threads m started (a thread inherits
// its creator's daemon flag, as in Python, so they are daemons too). The
// twin checks that m is still at work when main is done and that exit does
// not wait for it: a handler registered with std::atexit before any thread
// starts runs after weft's own exit handler (which joins non-daemon threads,
// as Python's interpreter does) and measures how long exit took.
//
// Time: one seed second is 100 ms. Nothing waits for the daemons, so the
// larger unit costs nothing and gives the "m is still running" check slack;
// m alone would take over 5 units.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 100ms;

std::chrono::steady_clock::time_point main_done;

void run(int n) {
  std::printf("[%d]------running----\n\n", n);
  std::this_thread::sleep_for(2 * kSeedSecond);
  std::printf("--done--\n");
}

void main_body() {  // the seed's main()
  for (int i = 0; i < 5; ++i) {
    weft::Thread t(run, i);
    t.start();
    t.join(1 * kSeedSecond);
    std::printf("starting thread %s\n", t.name().c_str());
  }  // t is a daemon, like its creator: destroying it does not wait
}

void exit_did_not_wait() {
  const auto exiting = std::chrono::steady_clock::now() - main_done;
  if (!seed::check(exiting < kSeedSecond, "the process exits without waiting for the daemons"))
    std::_Exit(seed::verdict());
}

int main() {
  std::atexit(exit_did_not_wait);

  weft::Thread m(main_body);
  m.set_daemon(true);  // 将主线程设置为Daemon线程
  m.start();
  std::printf("---main thread done----\n");

  seed::check(m.daemon() && m.is_alive(),
              "the main thread is done while daemon m is still working");
  main_done = std::chrono::steady_clock::now();
  return seed::verdict();
}
