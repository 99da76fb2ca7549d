// dist_fib — weft::dist's three-command example: one executable that is
// both the submitter and, run by `weft worker`, the workers.
//
//   redis-server --port 6379 --appendonly yes                # host A
//   weft worker --redis redis://A:6379/0 --queue fib ./dist_fib   # hosts B and C
//   ./dist_fib redis://A:6379/0                              # anywhere
//
// The submitter sends fib(20..34) to the "fib" queue, prints each result
// as it arrives in order, and the host and process that computed it.
#include <unistd.h>

#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include "weft/dist.hpp"

namespace {

long fib_of(int n) { return n < 2 ? n : fib_of(n - 1) + fib_of(n - 2); }

// fib(n), with where it ran.
std::tuple<long, std::string> fib(int n) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return {fib_of(n), std::string(host) + ":" + std::to_string(::getpid())};
}

}  // namespace

WEFT_DIST_TASK(fib);

int main(int argc, char** argv) {
  const std::string url = argc > 1 ? argv[1] : "redis://127.0.0.1:6379/0";
  try {
    weft::dist::Executor executor(url, "fib");
    std::vector<int> ns;
    for (int n = 20; n <= 34; ++n) ns.push_back(n);
    int i = 0;
    for (const auto& [value, where] : executor.map(fib, ns))
      std::printf("fib(%d) = %ld  (computed by %s)\n", ns[static_cast<std::size_t>(i++)], value, where.c_str());
  } catch (const std::exception& error) {
    std::fprintf(stderr, "dist_fib: %s\n", error.what());
    return 1;
  }
}
