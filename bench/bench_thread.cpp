// bench_thread — weft::Thread start + join against its peers, side by side.
//
// Measures wall time per thread: construct a thread running an empty
// function, start it and join it, one after another (thread_start_join/...),
// in a loop timed by Google Benchmark.
//
// Peers, in the same run: std::thread, and Python's threading.Thread
// (bench/python/thread_bench.py, fewer threads).
//
// No target is set; the ratios show what weft's registry, naming and
// exception handling cost over a bare std::thread.
//
// Run: bench_thread [--quick] [--benchmark_* flags]; WEFT_BENCH_QUICK=1 is
// the same as --quick, WEFT_PYTHON picks the Python interpreter.
#include <string>
#include <thread>

#include "bench_support.hpp"
#include "weft/threading/thread.hpp"

namespace {

void nothing() {}

void weft_thread(benchmark::State& state) {
  for (auto _ : state) {
    weft::Thread thread(nothing);
    thread.start();
    thread.join();
  }
}

void std_thread(benchmark::State& state) {
  for (auto _ : state) {
    std::thread thread(nothing);
    thread.join();
  }
}

}  // namespace

int main(int argc, char** argv) {
  weft_bench::init(argc, argv);
  const std::string prefix = "thread_start_join/";
  weft_bench::add_loop(prefix + "weft", weft_thread);
  weft_bench::add_loop(prefix + "std_thread", std_thread);
  weft_bench::add_python(prefix + "python", "thread_bench.py", weft_bench::items(2'000, 50));
  return weft_bench::run_and_report(argc, argv,
                                    {
                                        {prefix + "weft", prefix + "std_thread", 0, ""},
                                        {prefix + "weft", prefix + "python", 0, ""},
                                    },
                                    {"python starts fewer threads; per-thread times are compared"});
}
