// Seed 003, "使用yield实现协程操作例子" (coroutines with yield: the baozi
// consumer and producer):
//
//   def consumer(name):
//       print("--->starting eating baozi...")
//       while True:
//           new_baozi = yield
//           print("[%s] is eating baozi %s" % (name,new_baozi))
//
//   def producer():
//       r = con.__next__()
//       r = con2.__next__()
//       n = 0
//       while n < 5:
//           n +=1
//           con.send(n)
//           con2.send(n)
//           print("\033[32;1m[producer]\033[0m is making baozi %s" %n )
//
//   if __name__ == '__main__':
//       con = consumer("c1")
//       con2 = consumer("c2")
//       p = producer()
//
// Shows Generator::send: the first next() runs each consumer up to its
// `new_baozi = yield` (here `co_yield None`, which evaluates to the value
// sent, or nullopt for next()); each send(n) resumes the consumer with n as
// the value of that co_yield, and it eats the baozi and waits at the yield
// again — producer and consumers take turns on one thread. The consumers
// never end: they are destroyed, suspended, when the program ends.
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <weft/aio/generator.hpp>

#include "seed_check.hpp"

namespace aio = weft::aio;

std::map<std::string, std::vector<int>> eaten;  // by consumer name, in order
int starting = 0;

aio::Generator<void, int> consumer(std::string name) {
  std::printf("--->starting eating baozi...\n");
  ++starting;
  while (true) {
    const std::optional<int> new_baozi = co_yield aio::None;
    std::printf("[%s] is eating baozi %d\n", name.c_str(), new_baozi.value());
    eaten[name].push_back(new_baozi.value());
  }
}

aio::Generator<void, int> con;
aio::Generator<void, int> con2;

void producer() {
  con.next();  // r = con.__next__(): a bare yield gives None, next() returns nothing
  con2.next();
  int n = 0;
  while (n < 5) {
    n += 1;
    con.send(n);
    con2.send(n);
    std::printf("\033[32;1m[producer]\033[0m is making baozi %d\n", n);
  }
}

int main() {
  con = consumer("c1");
  con2 = consumer("c2");
  producer();

  const std::vector<int> one_to_five{1, 2, 3, 4, 5};
  seed::check(starting == 2, "both consumers started at the producer's first next()");
  seed::check(eaten["c1"] == one_to_five, "c1 ate baozi 1, 2, 3, 4, 5 in order");
  seed::check(eaten["c2"] == one_to_five, "c2 ate baozi 1, 2, 3, 4, 5 in order");
  seed::check(con.state() == aio::GeneratorState::GEN_SUSPENDED &&
                  con2.state() == aio::GeneratorState::GEN_SUSPENDED,
              "the consumers are still waiting at their yield for the next baozi");
  return seed::verdict();
}
