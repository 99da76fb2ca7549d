// Seed 001, "死锁现象": ten MyThread threads, each running func1 (take lock
// a, then b, sleep 1 s, release both) and then func2 (take b, then a — and
// then a a second time). One thread soon holds b waiting for a while
// another holds a waiting for b (or a thread waits for the a it already
// holds), and the program hangs forever.
//
// The twin runs the seed's program twice.
//
// 1. As Python runs it, deadlock detection off: the threads deadlock. The
//    twin makes them daemons (so that the process can still end) and
//    records, for each thread, which lock it waits for and which locks it
//    holds. It waits (at most 10 s) until every thread waits for a lock
//    that a waiting thread holds — nobody can ever move again — joins each
//    thread with a timeout, and checks that all ten are still alive with a
//    and b held: the hang, observed. Those threads stay blocked until the
//    process exits; a daemon thread is never waited for at exit and dies
//    with the process (their locks and objects are never destroyed, as a
//    Lock must not be destroyed while held).
//
// 2. With weft's deadlock detector in raise mode
//    (set_deadlock_detection(DeadlockMode::raise)), on a fresh pair of locks
//    a and b: func1 teaches the detector the order a -> b; the first func2
//    that, holding b, asks for a would close the cycle b -> a -> b, so the
//    detector hands its report (naming locks "a" and "b") to the handler
//    installed with set_deadlock_handler, and that acquisition — and every
//    later one that closes the cycle — throws weft::DeadlockError instead of
//    blocking. The locks are held by RAII guards, so unwinding releases b;
//    each thread catches the error in run() and ends. (Because func2 already
//    fails at its first `a`, the seed's second `a.acquire()` — a
//    self-deadlock the detector also reports — is never reached.) If these
//    threads do not end within 10 s (a weft bug), the twin says so and exits
//    1 instead of hanging.
//
// The seed prints "释放了b锁" after releasing a; the twin prints "释放了a锁"
// there. Time: one seed second is 20 ms.
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
constexpr int kThreads = 10;

struct MyThread;

// The seed's two global locks, and who holds each (for the twin's report).
struct Locks {
  weft::Lock a{"a"};
  weft::Lock b{"b"};
  std::atomic<MyThread*> a_holder{nullptr};
  std::atomic<MyThread*> b_holder{nullptr};

  std::atomic<MyThread*>& holder(const weft::Lock& lock) { return &lock == &a ? a_holder : b_holder; }
};

std::mutex reports_mutex;  // not a weft lock: the handler must stay out of the detector
std::vector<weft::DeadlockReport> reports;
std::atomic<int> raised{0};

struct MyThread : weft::Thread {
  explicit MyThread(Locks& locks) : locks(locks) {}

  Locks& locks;
  std::atomic<const weft::Lock*> waiting_for{nullptr};  // the lock acquire() is blocked on

  // lock.acquire() as a scoped guard that also keeps Locks' record of the
  // holder; released (record first) when it goes out of scope.
  class Hold {
   public:
    Hold(MyThread& self, weft::Lock& lock) : self_(self), lock_(lock) {
      self_.waiting_for = &lock_;
      lock_.acquire();  // throws DeadlockError in the detector's raise mode
      self_.waiting_for = nullptr;
      if (self_.locks.holder(lock_) == nullptr) self_.locks.holder(lock_) = &self_;
      held_ = true;
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { release(); }
    void release() {
      if (!held_) return;
      held_ = false;
      if (self_.locks.holder(lock_) == &self_) self_.locks.holder(lock_) = nullptr;
      lock_.release();
    }

   private:
    MyThread& self_;
    weft::Lock& lock_;
    bool held_ = false;
  };

  void run() override {
    try {
      func1();
      func2();
    } catch (const weft::DeadlockError&) {
      waiting_for = nullptr;
      say("caught DeadlockError instead of hanging; the locks it held are released");
      raised.fetch_add(1);
    }
  }

  void func1() {
    Hold hold_a(*this, locks.a);
    say("抢到了a锁");
    Hold hold_b(*this, locks.b);
    say("抢到了b锁");
    std::this_thread::sleep_for(1 * kSeedSecond);
    hold_b.release();
    say("释放了b锁");
    hold_a.release();
    say("释放了a锁");
  }

  void func2() {
    Hold hold_b(*this, locks.b);
    say("抢到了b锁");
    Hold hold_a(*this, locks.a);  // b then a: the reverse of func1
    say("抢到了a锁");
    Hold hold_a_again(*this, locks.a);  // the seed takes a twice
    hold_b.release();
    say("释放了b锁");
  }

  void say(const char* what) const { std::printf("%s %s\n", name().c_str(), what); }
};

// Part 1's locks and threads: never destroyed, since the threads block on
// the locks for the rest of the process's life.
Locks* hung_locks = nullptr;
std::deque<MyThread>* hung_threads = nullptr;

// Whether every thread waits for a lock held by a thread of the group: a
// state no thread can leave.
bool all_stuck(std::deque<MyThread>& threads, Locks& locks) {
  return std::all_of(threads.begin(), threads.end(), [&](MyThread& t) {
    const weft::Lock* lock = t.waiting_for.load();
    return lock != nullptr && locks.holder(*lock) != nullptr;
  });
}

std::string name_of(MyThread* t) { return t == nullptr ? "nobody" : t->name(); }

void without_detection() {
  std::printf("== 1. detection off: the seed's program, as Python runs it ==\n");
  weft::set_deadlock_detection(weft::DeadlockMode::off);
  hung_locks = new Locks;
  hung_threads = new std::deque<MyThread>;
  for (int i = 0; i < kThreads; ++i) {
    MyThread& obj = hung_threads->emplace_back(*hung_locks);
    obj.set_daemon(true);  // so that the process can end while they hang
    obj.start();
  }

  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (!all_stuck(*hung_threads, *hung_locks) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(1ms);
  bool none_ended = true;
  for (auto& obj : *hung_threads) none_ended = !obj.join(1 * kSeedSecond) && none_ended;

  std::printf("after join() timed out on every thread:\n");
  std::printf("  a is held by %s, b by %s\n", name_of(hung_locks->a_holder).c_str(),
              name_of(hung_locks->b_holder).c_str());
  for (auto& obj : *hung_threads) {
    const weft::Lock* lock = obj.waiting_for.load();
    if (lock == nullptr) continue;
    MyThread* holder = hung_locks->holder(*lock);
    std::printf("  %s waits for %s, held by %s\n", obj.name().c_str(), lock->name(),
                holder == &obj ? "itself (Lock is not reentrant)" : name_of(holder).c_str());
  }
  const bool alive = std::all_of(hung_threads->begin(), hung_threads->end(),
                                 [](const MyThread& t) { return t.is_alive(); });
  seed::check(all_stuck(*hung_threads, *hung_locks),
              "every thread waits for a lock that a waiting thread holds");
  seed::check(none_ended && alive && hung_locks->a.locked() && hung_locks->b.locked(),
              "deadlock: all ten threads are still alive and a and b stay held, as in Python");
  std::fflush(stdout);
}

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

void with_detection() {
  std::printf("== 2. the deadlock detector in raise mode, fresh locks a and b ==\n");
  weft::set_deadlock_detection(weft::DeadlockMode::raise);
  weft::set_deadlock_handler([](const weft::DeadlockReport& report) {
    std::lock_guard guard(reports_mutex);
    std::printf("---- deadlock detector report ----\n%s\n----------------------------------\n",
                report.text.c_str());
    reports.push_back(report);
  });

  Locks locks;
  std::deque<MyThread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(locks).start();

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
  seed::check(!locks.a.locked() && !locks.b.locked(),
              "all ten threads ended and neither lock is left held");
  std::printf("reports: %zu, DeadlockError raised in %d of 10 threads\n", reports.size(),
              raised.load());
}

int main() {
  without_detection();
  with_detection();
  return seed::verdict();
}
