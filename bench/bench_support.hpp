// bench/bench_support.hpp — the one harness shared by weft's side-by-side
// benchmarks (bench_queue, bench_lock, bench_thread, bench_futures).
//
// Every benchmark, weft's or a peer's, reports a single number: wall time
// per item, in the "per_item" counter. An item is whatever the executable
// counts — one queue hand-off, one lock/unlock pair, one thread started and
// joined. Three ways to register one:
//
//   add_loop(name, fn)            fn(state) runs Google Benchmark's loop, one
//                                 item per iteration, timed on the wall clock.
//   add_batch(name, items, run)   run(items) does a whole batch (threads, a
//                                 pipeline...) and returns the seconds its
//                                 items took, setup excluded (manual time).
//   add_python(name, script, items, args)
//                                 a batch run by a script of bench/python/
//                                 in a Python subprocess, which times itself
//                                 (interpreter start-up is never counted).
//
// Each benchmark runs `repetitions` times, the repetitions of all variants
// interleaved in random order; run_and_report() then prints, after Google
// Benchmark's own output, a table of weft/peer ratios of the medians (time
// ratio: below 1 means weft is faster), each with its target, if any, and
// whether it is met. Benchmarks are not tests: nothing here fails on a slow
// result.
//
// A measurement that is not a time (memory per task, say) is printed by
// its executable after the table; resident_bytes() reads the resident set,
// and run_python_output() gives a Python peer's whole output to parse.
//
// Modes: by default 5 repetitions with item counts chosen for stable
// numbers. Quick mode (--quick or WEFT_BENCH_QUICK=1), for CI smoke runs:
// 1 repetition, tiny item counts, a few seconds in all.
//
// Python: the interpreter named by WEFT_PYTHON, else python3 on PATH. If
// there is none, the Python peers are skipped and the table says so. The
// scripts are found through WEFT_BENCH_PYTHON_DIR, which the build defines.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#ifndef WEFT_BENCH_PYTHON_DIR
#error "WEFT_BENCH_PYTHON_DIR must name the directory of the Python peer scripts"
#endif

namespace weft_bench {

// ---------------------------------------------------------------- settings

struct Settings {
  bool quick = false;
  int repetitions = 5;
};

inline Settings& settings() {
  static Settings instance;
  return instance;
}

// Reads the mode from --quick or WEFT_BENCH_QUICK (any value but "" or "0")
// and removes --quick from argv, so that Google Benchmark never sees it.
// Call first thing in main(), before registering benchmarks.
inline void init(int& argc, char** argv) {
  const char* env = std::getenv("WEFT_BENCH_QUICK");
  bool quick = env != nullptr && *env != '\0' && std::string_view(env) != "0";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--quick")
      quick = true;
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  argv[argc] = nullptr;
  settings().quick = quick;
  settings().repetitions = quick ? 1 : 5;
}

// An item count: `full` normally, `quick` in quick mode.
inline std::int64_t items(std::int64_t full, std::int64_t quick) {
  return settings().quick ? quick : full;
}

// Removes `option` N (or `option`=N) from argv, so that Google Benchmark
// never sees it; returns N, or `fallback` without it. Throws
// std::invalid_argument unless N is a count >= 0.
inline std::int64_t take_count_option(int& argc, char** argv, std::string_view option,
                                      std::int64_t fallback) {
  const std::string name(option);
  std::int64_t count = fallback;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::optional<std::string> value;
    if (arg == option && i + 1 == argc) throw std::invalid_argument(name + " needs a count");
    if (arg == option)
      value = argv[++i];
    else if (arg.size() > option.size() && arg.substr(0, option.size()) == option &&
             arg[option.size()] == '=')
      value = std::string(arg.substr(option.size() + 1));
    if (!value) {
      argv[kept++] = argv[i];
      continue;
    }
    char* end = nullptr;
    count = std::strtoll(value->c_str(), &end, 10);
    if (value->empty() || *end != '\0' || count < 0)
      throw std::invalid_argument(name + " needs a count >= 0, not '" + *value + "'");
  }
  argc = kept;
  argv[argc] = nullptr;
  return count;
}

// ------------------------------------------------------------ registration

// Declares that every iteration of `state` handled `per_iteration` items;
// the "per_item" counter then shows the (wall or manual) time per item.
inline void set_items(benchmark::State& state, double per_iteration) {
  state.counters["per_item"] = benchmark::Counter(
      per_iteration, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

// A benchmark whose loop body handles one item; Google Benchmark picks the
// iteration count and times the loop on the wall clock.
template <class Fn>
benchmark::internal::Benchmark* add_loop(const std::string& name, Fn fn) {
  auto* bench = benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& state) {
    fn(state);
    set_items(state, 1);
  });
  bench->UseRealTime()->Unit(benchmark::kNanosecond)->Repetitions(settings().repetitions);
  if (settings().quick) bench->MinTime(0.02);
  return bench;
}

// A benchmark of one batch of `items` items per repetition. run(items)
// returns the seconds the items took; it throws to report a failure, which
// marks the benchmark as failed instead of ending the program.
template <class Run>
benchmark::internal::Benchmark* add_batch(const std::string& name, std::int64_t items, Run run) {
  auto* bench = benchmark::RegisterBenchmark(name.c_str(), [items, run](benchmark::State& state) {
    for (auto _ : state) {
      try {
        state.SetIterationTime(run(items));
      } catch (const std::exception& error) {
        state.SkipWithError(error.what());
        break;
      }
    }
    set_items(state, static_cast<double>(items));
  });
  bench->UseManualTime()->Iterations(1)->Repetitions(settings().repetitions);
  bench->Unit(benchmark::kMillisecond);
  return bench;
}

// ------------------------------------------------------------------ python

// Benchmarks that were not registered, and why (shown in the ratio table).
inline std::map<std::string, std::string>& skipped() {
  static std::map<std::string, std::string> instance;
  return instance;
}

// Finds an executable the way a shell would: a name with a slash is taken
// as it is, any other is looked up in PATH.
inline std::optional<std::string> find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos)
    return access(name.c_str(), X_OK) == 0 ? std::optional(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "";
  while (true) {
    const std::size_t colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

// The Python interpreter to run the peers with, or why there is none.
struct PythonLookup {
  std::optional<std::string> interpreter;
  std::string why_missing;
};

inline const PythonLookup& python() {
  static const PythonLookup lookup = [] {
    const char* env = std::getenv("WEFT_PYTHON");
    const std::string wanted = env != nullptr && *env != '\0' ? env : "python3";
    PythonLookup found{find_executable(wanted), {}};
    if (!found.interpreter)
      found.why_missing = "no executable '" + wanted + "'" +
                          (env != nullptr && *env != '\0' ? " (from WEFT_PYTHON)"
                                                          : " on PATH (set WEFT_PYTHON)");
    return found;
  }();
  return lookup;
}

// Quotes a word for /bin/sh.
inline std::string shell_quote(std::string_view word) {
  std::string quoted = "'";
  for (const char c : word) {
    if (c == '\'')
      quoted += "'\\''";
    else
      quoted += c;
  }
  return quoted + "'";
}

// Runs bench/python/<script> ITEMS ARGS... and returns what it printed on
// standard output. Its standard error goes to ours. Throws
// std::runtime_error if there is no interpreter or the script fails.
inline std::string run_python_output(const std::string& script, std::int64_t items,
                                     const std::vector<std::string>& args) {
  const PythonLookup& py = python();
  if (!py.interpreter) throw std::runtime_error(py.why_missing);
  std::string command = shell_quote(*py.interpreter) + " " +
                        shell_quote(std::string(WEFT_BENCH_PYTHON_DIR) + "/" + script) + " " +
                        std::to_string(items);
  for (const std::string& arg : args) {
    command += ' ';
    command += shell_quote(arg);
  }

  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) throw std::runtime_error("cannot run " + command);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(script + " failed (" +
                             (status != -1 && WIFEXITED(status)
                                  ? "exit status " + std::to_string(WEXITSTATUS(status))
                                  : "wait status " + std::to_string(status)) +
                             ")");
  return output;
}

// Runs bench/python/<script> ITEMS ARGS... and returns the seconds it
// reports for its items. Throws std::runtime_error if it fails or reports
// something unexpected.
inline double run_python(const std::string& script, std::int64_t items,
                         const std::vector<std::string>& args) {
  std::istringstream lines(run_python_output(script, items, args));
  for (std::string line; std::getline(lines, line);) {
    long long reported_items = 0;
    double seconds = 0;
    if (std::sscanf(line.c_str(), "result items=%lld seconds=%lf", &reported_items, &seconds) ==
        2) {
      if (reported_items != items || !(seconds > 0))
        throw std::runtime_error(script + " reported an unexpected result: " + line);
      return seconds;
    }
  }
  throw std::runtime_error(script + " printed no result line");
}

// Registers a Python peer as a batch benchmark, or, without an interpreter,
// records it as skipped.
inline void add_python(const std::string& name, const std::string& script, std::int64_t items,
                       std::vector<std::string> args = {}) {
  if (!python().interpreter) {
    skipped()[name] = python().why_missing;
    return;
  }
  add_batch(name, items, [script, args = std::move(args)](std::int64_t n) {
    return run_python(script, n, args);
  });
}

// ------------------------------------------------------------------ memory

// The process's resident set, in bytes (/proc/self/statm, second field).
// Throws std::runtime_error if it cannot be read.
inline std::int64_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) throw std::runtime_error("cannot read /proc/self/statm");
  return resident * ::sysconf(_SC_PAGESIZE);
}

// ------------------------------------------------------------ ratio table

// One row of the table: weft's benchmark against one peer's.
struct Comparison {
  std::string weft;         // name of weft's benchmark
  std::string peer;         // name of the peer's benchmark
  double max_ratio = 0;     // the target: highest acceptable weft/peer time; 0: none
  std::string target_text;  // the target as people say it, e.g. ">= 20x faster"
};

// Shows a time in seconds in ns, us or ms, with one decimal.
inline std::string format_time(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  if (seconds < 1e-6)
    out << seconds * 1e9 << " ns";
  else if (seconds < 1e-3)
    out << seconds * 1e6 << " us";
  else
    out << seconds * 1e3 << " ms";
  return out.str();
}

// Google Benchmark's console output, plus a table of weft/peer ratios of
// the median per-item times, printed once every benchmark has run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  RatioReporter(std::vector<Comparison> comparisons, std::vector<std::string> notes)
      : ConsoleReporter(isatty(STDOUT_FILENO) ? OO_ColorTabular : OO_Tabular),
        comparisons_(std::move(comparisons)),
        notes_(std::move(notes)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      Result& result = results_[run.run_name.function_name];
      if (run.error_occurred) {
        result.error = run.error_message;
        continue;
      }
      const auto counter = run.counters.find("per_item");
      if (counter == run.counters.end()) continue;
      // The median aggregate wins; a lone repetition (quick mode, or all
      // but one failed) stands in when there is no aggregate.
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "median") result = {counter->second.value, true, {}};
      } else if (!result.from_median) {
        result.seconds_per_item = counter->second.value;
      }
    }
  }

  void Finalize() override {
    std::ostream& out = GetOutputStream();
    out << "\nweft/peer: ratio of median wall time per item (lower is better for weft; "
        << settings().repetitions << (settings().repetitions == 1 ? " repetition" : " repetitions")
        << (settings().quick ? ", quick mode: smoke run, numbers not meaningful" : "") << ")\n";
    std::size_t width = 10;
    int target_width = 22;  // wide enough that the "met" column never touches a target
    for (const Comparison& row : comparisons_) {
      width = std::max({width, row.weft.size(), row.peer.size() + 5});
      target_width = std::max(target_width, static_cast<int>(row.target_text.size()) + 2);
    }
    out << std::left << std::setw(static_cast<int>(width)) << "benchmark" << std::right
        << std::setw(12) << "per item" << std::setw(11) << "weft/peer" << std::setw(17)
        << "weft is" << "   " << std::left << std::setw(target_width) << "target" << "met\n";
    std::string previous_weft;
    for (const Comparison& row : comparisons_) {
      if (row.weft != previous_weft) {
        out << std::left << std::setw(static_cast<int>(width)) << row.weft << std::right
            << std::setw(12) << describe(row.weft) << "\n";
        previous_weft = row.weft;
      }
      out << std::left << std::setw(static_cast<int>(width)) << ("  vs " + row.peer) << std::right
          << std::setw(12) << describe(row.peer);
      const std::optional<double> ratio = ratio_of(row);
      if (!ratio) {
        out << std::setw(11) << "-" << std::setw(17) << "-" << "   " << std::left
            << std::setw(target_width) << (row.target_text.empty() ? "-" : row.target_text) << "-\n";
        continue;
      }
      std::ostringstream ratio_text, verdict;
      ratio_text << std::fixed << std::setprecision(3) << *ratio;
      verdict << std::fixed << std::setprecision(2)
              << (*ratio <= 1 ? 1 / *ratio : *ratio) << (*ratio <= 1 ? "x faster" : "x slower");
      const char* met = row.max_ratio <= 0 ? "-" : *ratio <= row.max_ratio ? "yes" : "NO";
      out << std::setw(11) << ratio_text.str() << std::setw(17) << verdict.str() << "   "
          << std::left << std::setw(target_width) << (row.target_text.empty() ? "-" : row.target_text)
          << met << "\n";
    }
    for (const auto& [name, why] : skipped()) out << "skipped " << name << ": " << why << "\n";
    for (const auto& [name, result] : results_)
      if (!result.seconds_per_item && !result.error.empty())
        out << "failed " << name << ": " << result.error << "\n";
    for (const std::string& note : notes_) out << "note: " << note << "\n";
    out << std::flush;
  }

 private:
  struct Result {
    std::optional<double> seconds_per_item;
    bool from_median = false;
    std::string error;
  };

  std::optional<double> seconds_per_item(const std::string& name) const {
    const auto it = results_.find(name);
    return it == results_.end() ? std::nullopt : it->second.seconds_per_item;
  }

  // The per-item time of a benchmark, or why there is none.
  std::string describe(const std::string& name) const {
    if (const auto seconds = seconds_per_item(name)) return format_time(*seconds);
    if (skipped().count(name) != 0) return "skipped";
    const auto it = results_.find(name);
    return it != results_.end() && !it->second.error.empty() ? "failed" : "not run";
  }

  std::optional<double> ratio_of(const Comparison& row) const {
    const auto weft = seconds_per_item(row.weft);
    const auto peer = seconds_per_item(row.peer);
    if (!weft || !peer || !(*peer > 0)) return std::nullopt;
    return *weft / *peer;
  }

  std::vector<Comparison> comparisons_;
  std::vector<std::string> notes_;
  std::map<std::string, Result> results_;
};

// Runs the registered benchmarks and prints the ratio table. Returns
// main()'s exit status. Google Benchmark's --benchmark_* flags apply; random
// interleaving is on unless the command line turns it off, so that the
// repetitions of all variants run in shuffled order and a slow drift of the
// machine (a noisy neighbour, frequency changes) hits every variant alike
// instead of skewing a ratio.
inline int run_and_report(int argc, char** argv, std::vector<Comparison> comparisons,
                          std::vector<std::string> notes = {}) {
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  std::vector<char*> args(argv, argv + argc);
  args.insert(args.begin() + 1, interleave);
  args.push_back(nullptr);
  int count = argc + 1;
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  if (!python().interpreter)
    std::printf("Python peers skipped: %s\n", python().why_missing.c_str());
  if (settings().quick)
    std::printf("mode: quick (1 repetition per benchmark; a smoke run, numbers not meaningful)\n");
  else
    std::printf("mode: full (%d repetitions per benchmark; medians compared)\n",
                settings().repetitions);
  std::fflush(stdout);
  RatioReporter reporter(std::move(comparisons), std::move(notes));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace weft_bench
