// Seed 001, "死锁现象": ten MyThread threads, each running func1 (take lock
// a, then b, sleep 1 s, release both) and then func2 (take b, then a — and
// then a a second time). In Python one thread soon holds b waiting for a
// while another holds a waiting for b (or a thread waits for the a it
// already holds), and the program hangs forever.
//
// weft's deadlock detector sees it instead of hanging. With
// set_deadlock_detection(DeadlockMode::raise), func1 teaches it the order
// a -> b; the first func2 that, holding b, asks for a would close the cycle
// b -> a -> b, so the detector hands its report (naming locks "a" and "b")
// to the handler installed with set_deadlock_handler, and that acquisition —
// and every later one that closes the cycle — throws weft::DeadlockError
// instead of blocking. The locks are held by std::unique_lock, so unwinding
// releases b; each thread catches the error in run() and ends, and the
// program exits 0. (Because func2 already fails at its first `a`, the
// seed's second `a.acquire()` — a self-deadlock the detector also reports —
// is never reached.) The seed prints "释放了b锁" after releasing a; the twin
// prints "释放了a锁" there.
//
// Checks: a report arrived and named a and b; DeadlockError was raised; all
// ten threads ended; neither lock is left held. If the threads do not end
// within 10 s (a weft bug), the twin says so and exits 1 instead of hanging.
//
// Time: one seed second is 20 ms.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <weft/threading.hpp>

#include "seed_check.hpp"

using namespace std::chrono_literals;

constexpr auto kSeedSecond = 20ms;

weft::Lock a("a");
weft::Lock b("b");

std::mutex reports_mutex;  // not a weft lock: the handler must stay out of the detector
std::vector<weft::DeadlockReport> reports;
std::atomic<int> raised{0};

struct MyThread : weft::Thread {
  void run() override {
    try {
      func1();
      func2();
    } catch (const weft::DeadlockError&) {
      say("caught DeadlockError instead of hanging; the locks it held are released");
      raised.fetch_add(1);
    }
  }

  void func1() {
    std::unique_lock hold_a(a);
    say("抢到了a锁");
    std::unique_lock hold_b(b);
    say("抢到了b锁");
    std::this_thread::sleep_for(1 * kSeedSecond);
    hold_b.unlock();
    say("释放了b锁");
    hold_a.unlock();
    say("释放了a锁");
  }

  void func2() {
    std::unique_lock hold_b(b);
    say("抢到了b锁");
    std::unique_lock hold_a(a);  // b then a: the reverse of func1
    say("抢到了a锁");
    std::unique_lock hold_a_again(a);  // the seed takes a twice
    hold_b.unlock();
    say("释放了b锁");
  }

  void say(const char* what) const { std::printf("%s %s\n", name().c_str(), what); }
};

// The report labels a lock like "Lock 'a' (0x...)".
bool names_a_and_b(const weft::DeadlockReport& report) {
  bool a_seen = false, b_seen = false;
  for (const auto& edge : report.cycle) {
    for (const std::string& label : {edge.held, edge.acquired}) {
      a_seen = a_seen || label.find("'a'") != std::string::npos;
      b_seen = b_seen || label.find("'b'") != std::string::npos;
    }
  }
  return report.kind == weft::DeadlockReport::Kind::lock_order_cycle && a_seen && b_seen;
}

int main() {
  weft::set_deadlock_detection(weft::DeadlockMode::raise);
  weft::set_deadlock_handler([](const weft::DeadlockReport& report) {
    std::lock_guard guard(reports_mutex);
    std::printf("---- deadlock detector report ----\n%s\n----------------------------------\n",
                report.text.c_str());
    reports.push_back(report);
  });

  std::deque<MyThread> threads(10);
  for (auto& obj : threads) obj.start();

  const auto give_up = std::chrono::steady_clock::now() + 10s;
  for (auto& obj : threads) {
    const auto left = std::max<std::chrono::steady_clock::duration>(
        give_up - std::chrono::steady_clock::now(), 0s);
    if (!obj.join(left)) {
      seed::check(false, "the ten threads ended: the detector did not prevent the hang");
      std::_Exit(seed::verdict());
    }
  }

  std::lock_guard guard(reports_mutex);
  seed::check(!reports.empty() && names_a_and_b(reports.front()),
              "the deadlock report named locks a and b");
  seed::check(raised.load() > 0, "the acquisition closing the cycle raised DeadlockError");
  seed::check(!a.locked() && !b.locked(), "all ten threads ended and neither lock is left held");
  std::printf("reports: %zu, DeadlockError raised in %d of 10 threads\n", reports.size(),
              raised.load());
  return seed::verdict();
}
