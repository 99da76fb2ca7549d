// A program that knows weft only through find_package(weft): it must build
// against the installed headers and library and run.
#include <weft/queue.hpp>
#include <weft/threading.hpp>

#include <cstdio>

int main() {
  weft::Queue<int> q(4);
  weft::Thread producer([&] {
    for (int i = 1; i <= 100; ++i) q.put(i);
    q.shutdown();
  });
  producer.start();
  long sum = 0;
  try {
    for (;;) sum += q.get();
  } catch (const weft::ShutDown&) {
  }
  producer.join();
  std::printf("consumer: sum=%ld\n", sum);
  return sum == 5050 ? 0 : 1;
}
