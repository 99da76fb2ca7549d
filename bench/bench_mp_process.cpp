// bench_mp_process — starting and joining a child process, side by side.
//
// Measures: wall time per child, started and joined one after the other,
// running an empty function: weft::mp::Process with each start method
// (process/fork, process/spawn, process/forkserver). One child of each
// method is started before the clock runs, so the forkserver's own
// start-up is not timed.
//
// Peers, in the same run:
//   raw_fork_waitpid   fork(), _exit(0) in the child, waitpid() — the floor
//                      under any fork-based Process;
//   python/<method>    multiprocessing.Process(target=noop) start + join
//                      with the same method (bench/python/mp_process.py),
//                      fewer items.
//
// Targets: weft faster than Python with every method; weft's fork within
// 1.5x of the raw fork.
//
// Run: bench_mp_process [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1
// is the same as --quick, WEFT_PYTHON picks the Python interpreter.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "bench_support.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/process.hpp"

namespace {

using weft::mp::StartMethod;

void noop() {}

void start_and_join(StartMethod method) {
  auto p = weft::mp::Context(method).Process(&noop);
  p.start();
  p.join();
  if (p.exitcode() != 0) throw std::runtime_error("child exited with a nonzero code");
}

double weft_children(StartMethod method, std::int64_t items) {
  start_and_join(method);
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < items; ++i) start_and_join(method);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double raw_fork_children(std::int64_t items) {
  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t i = 0; i < items; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) ::_exit(0);
    int status = 0;
    if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("raw child failed");
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  std::vector<weft_bench::Comparison> rows;

  weft_bench::add_batch("raw_fork_waitpid", weft_bench::items(400, 5), raw_fork_children);
  for (const StartMethod method : {StartMethod::fork, StartMethod::spawn, StartMethod::forkserver}) {
    const std::string name(weft::mp::start_method_name(method));
    const bool forks = method != StartMethod::spawn;
    weft_bench::add_batch("process/" + name, weft_bench::items(forks ? 400 : 100, 5),
                          [method](std::int64_t n) { return weft_children(method, n); });
    weft_bench::add_python("python/" + name, "mp_process.py", weft_bench::items(forks ? 100 : 20, 2),
                           {name});
    if (method == StartMethod::fork)
      rows.push_back({"process/fork", "raw_fork_waitpid", 1.5, "<= 1.5x raw fork"});
    rows.push_back({"process/" + name, "python/" + name, 1.0, "faster than Python"});
  }
  return weft_bench::run_and_report(
      argc, argv, std::move(rows),
      {"spawn runs the whole executable again (its static initialisers included); "
       "python's spawn starts a new interpreter and imports the script"});
}
