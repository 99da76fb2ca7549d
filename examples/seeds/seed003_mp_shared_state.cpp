// Seed 003, Managers — the programs before the Manager itself. First, "no
// shared data": ten processes each append i to a global list li and print
// it ("say hi [i]"), and the parent's li is still empty at the end
// ("ending []"). Then 方法一:Array: temp = Array('i', [11,22,33,44]); two
// processes set temp[i] = 100 + i and print every element.
//
// Shows that a child's memory is its own (each child saw only its own
// append) and that an Array is the same memory in every process: after the
// children, the parent sees [100, 101, 33, 44]. (The Manager programs of
// this section belong to weft::mp::Manager.)
#include <cstdio>
#include <vector>

#include <weft/multiprocessing.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

std::vector<int> li;

void foo(int i) {
  li.push_back(i);
  std::printf("say hi [%d]\n", li.back());
}

mp::Array<int> temp({11, 22, 33, 44});

void Foo(int i) {
  temp[static_cast<std::size_t>(i)] = 100 + i;
  for (const int item : temp) std::printf("%d -----> %d\n", i, item);
}

int main() {
  {
    std::vector<mp::Process> children;
    children.reserve(10);
    for (int i = 0; i < 10; ++i) children.emplace_back(foo, i).start();
    for (auto& p : children) p.join();
  }
  std::printf("ending [");
  for (const int i : li) std::printf("%d ", i);
  std::printf("]\n");
  seed::check(li.empty(), "the children's appends never reached the parent's list");

  {
    std::vector<mp::Process> children;
    children.reserve(2);
    for (int i = 0; i < 2; ++i) children.emplace_back(Foo, i).start();
    for (auto& p : children) p.join();
  }
  seed::check(temp.to_vector() == std::vector<int>{100, 101, 33, 44},
              "the Array is shared: the parent sees [100, 101, 33, 44]");
  return seed::verdict();
}
