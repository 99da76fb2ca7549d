// Seed 004, 管道: a consumer process receives from one end of a Pipe until
// EOFError; the producer (the main process) sends ten items and closes its
// end. A Pipe end only reads EOF once the *other* end is closed in every
// process that holds it — so the consumer, which inherited both ends, must
// close its copy of the producer's end, or it would wait forever. And a
// closed end cannot be used: recv() on it raises OSError.
//
// The consumer is a lambda that captures both ends, which the fork start
// method runs on the child's copies of them — exactly Python's picture.
#include <cstdio>
#include <string>

#include <weft/multiprocessing.hpp>
#include <weft/net.hpp>

#include "seed_check.hpp"

namespace mp = weft::mp;

int main() {
  auto [left, right] = mp::Pipe();
  mp::Queue<int> received;
  mp::Process consumer([&] {
    left.close();  // 不用的一端要关闭,否则永远收不到EOFError
    int count = 0;
    for (;;) {
      try {
        const auto item = right.recv<std::string>();
        std::printf("consumer got %s\n", item.c_str());
        ++count;
      } catch (const weft::EOFError&) {
        std::printf("consumer: EOFError, every copy of the other end is closed\n");
        break;
      }
    }
    std::fflush(stdout);
    received.put(count);
  });
  consumer.start();
  right.close();  // the producer does not read
  for (int i = 0; i < 10; ++i) left.send("item " + std::to_string(i));
  left.close();
  const int count = received.get();
  consumer.join();
  seed::check(count == 10 && consumer.exitcode() == 0,
              "the consumer got all 10 items, then EOFError once every writer end was closed");

  bool refused = false;
  try {
    right.recv<std::string>();
  } catch (const weft::net::OSError& e) {
    std::printf("recv on a closed end: OSError: %s\n", e.what());
    refused = true;
  }
  seed::check(refused, "a closed end refuses recv() with OSError");
  return seed::verdict();
}
