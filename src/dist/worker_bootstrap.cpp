// The static constructor through which a run of a program linked with
// weft::dist becomes a worker (weft/dist/worker.hpp) before main() is ever
// reached: `weft worker` and spawn_worker_process() start the program with
// WEFT_DIST_WORKER in its environment.
//
// This object file is linked into every program that registers a task:
// register_task() (registry.cpp) calls link_worker_bootstrap(), so even
// from the static library the linker takes this file, and its constructor,
// along. Its constructor has the default priority and its library is
// linked after the program's own objects, so it runs after their static
// initialisers: the WEFT_DIST_TASK registrations are in place.
#include "worker_bootstrap.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "weft/detail/exception_text.hpp"
#include "weft/dist/worker.hpp"

namespace weft::dist::detail {
namespace {

[[noreturn]] void serve_and_exit(const std::string& encoded) {
  int status = 1;
  try {
    status = run_worker(decode_worker_options(encoded));
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "weft worker %d: %s: %s\n", static_cast<int>(::getpid()),
                 weft::detail::current_exception_type().c_str(),
                 weft::detail::exception_text(std::current_exception()).c_str());
  }
  std::fflush(nullptr);
  ::_exit(status);
}

struct WorkerBootstrap {
  WorkerBootstrap() {
    if (const char* value = std::getenv(worker_variable)) {
      const std::string encoded = value;
      ::unsetenv(worker_variable);
      serve_and_exit(encoded);
    }
  }
};

const WorkerBootstrap bootstrap;

}  // namespace

void link_worker_bootstrap() noexcept {}

}  // namespace weft::dist::detail
