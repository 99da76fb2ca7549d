// Seed 003, 进程锁实例 and 进程同步. Twenty processes take an RLock, set
// temp[0] = 100 + i in a shared Array('i', [11,22,33,44]) and print every
// element while holding it; then ten processes print "hello world i", each
// holding a Lock.
//
// Shows a process-shared lock keeping each child's lines together: the
// twin's children print their four lines with one write each under the
// RLock, and a second RLock-protected counter checks that no two children
// were ever inside at once. The ten "hello world" children likewise count
// themselves in and out under the Lock, and first meet at an mp::Barrier,
// so that all ten ask for the Lock at the same moment and the Lock, not
// the order they happened to start in, is what keeps them apart: the most
// children ever inside must be exactly one.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;
using namespace std::chrono_literals;

void Foo(mp::RLock lock, mp::Array<int> temp, mp::Value<int> inside, int i) {
  lock.acquire();
  inside.get_obj() += 1;
  temp[0] = 100 + i;
  for (const int item : temp) std::printf("%d -----> %d\n", i, item);
  std::fflush(stdout);
  if (inside.get_obj() != 1) std::printf("[check] FAILED: two processes held the RLock\n");
  inside.get_obj() -= 1;
  lock.release();
}

void f(mp::Lock l, mp::Barrier together, mp::Value<int> inside, mp::Value<int> most, int i) {
  together.wait(10s);  // bounded: a child that never comes breaks the barrier
  l.acquire();
  const int now = inside.get_obj() += 1;
  if (now > most.get_obj()) most.get_obj() = now;
  std::printf("hello world %d\n", i);
  std::fflush(stdout);
  inside.get_obj() -= 1;
  l.release();
}

int main() {
  mp::RLock lock;
  mp::Array<int> temp({11, 22, 33, 44});
  mp::Value<int> inside(0, false);
  {
    std::vector<mp::Process> children;
    children.reserve(20);
    for (int i = 0; i < 20; ++i) children.emplace_back(Foo, lock, temp, inside, i).start();
    for (auto& p : children) p.join();
  }
  const int first = temp[0];
  seed::check(first >= 100 && first < 120 && temp[1] == 22,
              "temp[0] holds 100 + i of the last child to take the lock");

  mp::Lock l;
  mp::Barrier together(10);
  mp::Value<int> hello_inside(0, false), hello_most(0, false);  // changed only under l
  std::vector<mp::Process> children;
  children.reserve(10);
  for (int num = 0; num < 10; ++num)
    children.emplace_back(f, l, together, hello_inside, hello_most, num).start();
  bool all_zero = true;
  for (auto& p : children) {
    p.join();
    all_zero = all_zero && p.exitcode() == 0;
  }
  std::printf("most children inside the Lock at once: %d\n", hello_most.get_obj());
  seed::check(all_zero && hello_most.get_obj() == 1 && hello_inside.get_obj() == 0,
              "ten processes printed hello world under the Lock, one at a time");
  return seed::verdict();
}
