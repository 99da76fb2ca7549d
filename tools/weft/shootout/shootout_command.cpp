// tools/weft/shootout/shootout_command.cpp — `weft shootout`: runs every
// contender at each connection count and reports.
#include "weft/shootout/shootout_command.hpp"

#include <fmt/core.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <thread>

#include "weft/descriptor_limit.hpp"
#include "weft/pin_to_core.hpp"
#include "weft/shootout/contenders.hpp"
#include "weft/shootout/measure.hpp"
#include "weft/shootout/shootout_result.hpp"
#include "weft/shootout/syscall_counter.hpp"

namespace weft::tool {
namespace {

struct ShootoutArguments {
  bool quick = false;
  std::vector<int> connections;
  double duration = 2.0;
  int repeat = 3;
  double warmup = 0.5;
  std::size_t size = 64;
  std::string protocol = "echo";
  std::vector<std::string> only;
  std::string out = "weft-shootout";
};

std::string machine_line(int allowed) {
  utsname name{};
  ::uname(&name);
  const unsigned cores = std::thread::hardware_concurrency();
  return fmt::format("Machine: {} cores{}, Linux {}", cores,
                     allowed > 0 && static_cast<unsigned>(allowed) != cores ? fmt::format(" ({} allowed here)", allowed) : "",
                     name.release);
}

bool selected(const Contender& contender, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  for (const std::string& pattern : only)
    if (contender.name.find(pattern) != std::string::npos) return true;
  return false;
}

void run_shootout(ShootoutArguments& arguments) {
  // Before any server is forked: each inherits this limit (weft serve and
  // the peers raise theirs again), and the load generator needs it too.
  raise_descriptor_limit();
  if (arguments.quick) {
    if (arguments.connections.empty()) arguments.connections = {100};
    arguments.repeat = 1;
    arguments.duration = std::min(arguments.duration, 1.0);
    arguments.warmup = std::min(arguments.warmup, 0.25);
  }
  if (arguments.connections.empty()) arguments.connections = {100, 1000};
  const auto protocol = parse_protocol(arguments.protocol);
  if (!protocol) throw CLI::ValidationError("--protocol", "echo or http");
  // The server and the client each get a core of their own: the first two
  // this process may use (taskset or a cpuset may exclude core 0). With
  // one, nothing is pinned and they share it.
  const cpu_set_t allowed = allowed_cores();
  const std::optional<CorePair> cores = first_two_cores(allowed);
  MeasureSettings settings{.duration = arguments.duration,
                           .warmup = arguments.warmup,
                           .size = arguments.size,
                           .protocol = *protocol,
                           .server_core = cores ? std::optional(cores->server) : std::nullopt,
                           .client_core = cores ? std::optional(cores->client) : std::nullopt};
  // Settings the load generator would refuse are refused before any server starts.
  for (int connections : arguments.connections) {
    settings.connections = connections;
    try {
      check_settings(settings);
    } catch (const std::invalid_argument& error) {
      fmt::print(stderr, "weft shootout: {}\n", error.what());
      throw CLI::RuntimeError(2);
    }
  }

  ShootoutReport report;
  report.machine = machine_line(CPU_COUNT(&allowed));
  if (cores) {
    report.pinning = fmt::format("the server runs pinned to core {} and the load generator to core {}", cores->server,
                                 cores->client);
  } else {
    report.pinning = "only one core may be used here: nothing is pinned, and the server shares it with the load generator";
    fmt::print(stderr, "weft shootout: {}\n", report.pinning);
  }
  report.settings = fmt::format("Load: {} protocol, {} B messages, one request in flight per connection, {:.1f} s "
                                "measured after {:.2f} s of warmup, one client thread.",
                                arguments.protocol, arguments.size, arguments.duration, arguments.warmup);
  const ContenderSources sources = find_contender_sources();
  std::vector<Contender> contenders;
  for (Contender& contender : all_contenders(sources, *protocol, report.skipped))
    if (selected(contender, arguments.only)) contenders.push_back(std::move(contender));
  if (!SyscallCounter::available())
    report.skipped.push_back("syscalls per request: perf cannot count here (apt-get install linux-perf)");

  // Runs are interleaved — every server once, then every server again — so
  // that a disturbance of the machine spreads over all of them; each row is
  // the median of its runs.
  const std::size_t total = contenders.size() * arguments.connections.size() * static_cast<std::size_t>(arguments.repeat);
  std::size_t done = 0;
  for (int connections : arguments.connections) {
    std::vector<std::vector<ShootoutRow>> runs(contenders.size());
    for (int round = 0; round < arguments.repeat; ++round) {
      for (std::size_t i = 0; i < contenders.size(); ++i) {
        const Contender& contender = contenders[i];
        ++done;
        fmt::print(stderr, "[{:>3}/{}] {:<30} {:>5} conns ... ", done, total, contender.name, connections);
        std::fflush(stderr);
        settings.connections = connections;
        ShootoutRow row = measure(contender, settings);
        if (row.ok)
          fmt::print(stderr, "{}{:>8.0f} req/s  {:>6.2f} µs CPU/req{}\n", row.flagged ? "FLAGGED " : "",
                     row.requests_per_second,
                     row.server_cpu_us_per_request.value_or(0.0), row.notes.empty() ? "" : "  (" + row.notes + ")");
        else
          fmt::print(stderr, "failed: {}\n", row.notes);
        runs[i].push_back(std::move(row));
      }
    }
    for (auto& samples : runs) report.rows.push_back(median_row(samples));
  }
  report.settings += fmt::format(" Each row: the median of {} run{}.", arguments.repeat, arguments.repeat > 1 ? "s" : "");

  fmt::print("\n{}\n{}\n\n{}", report.machine, report.settings, render_text_table(report));
  const auto targets = target_lines(report);
  if (!targets.empty()) fmt::print("\nTargets (weft/peer, server CPU per request):\n");
  for (const std::string& line : targets) fmt::print("  {}\n", line);
  for (const std::string& line : report.skipped) fmt::print("  not run: {}\n", line);

  std::filesystem::create_directories(arguments.out);
  const auto markdown = std::filesystem::path(arguments.out) / "shootout.md";
  const auto chart = std::filesystem::path(arguments.out) / "shootout.svg";
  std::ofstream(markdown) << render_markdown(report);
  std::ofstream(chart) << render_svg(report);
  fmt::print("\nwrote {} and {}\n", markdown.string(), chart.string());

  const bool any = std::any_of(report.rows.begin(), report.rows.end(), [](const ShootoutRow& r) { return r.ok; });
  if (!any) throw CLI::RuntimeError(1);
}

}  // namespace

void add_shootout_command(CLI::App& app) {
  auto arguments = std::make_shared<ShootoutArguments>();
  CLI::App* shootout = app.add_subcommand("shootout", "every IO model and its peers under the same load, one table");
  shootout->add_flag("--quick", arguments->quick, "100 connections, 1 s per server: under a minute");
  shootout->add_option("-c,--connections", arguments->connections, "connection counts to run (default 100 1000)");
  shootout->add_option("--duration", arguments->duration, "seconds measured per server")->capture_default_str();
  shootout->add_option("--repeat", arguments->repeat, "runs per server; the table shows medians")
      ->check(CLI::Range(1, 99))->capture_default_str();
  shootout->add_option("--warmup", arguments->warmup, "seconds of traffic before measuring")->capture_default_str();
  shootout->add_option("--size", arguments->size, "echo message size in bytes")->capture_default_str();
  shootout->add_option("--protocol", arguments->protocol, "echo or http")->capture_default_str();
  shootout->add_option("--only", arguments->only, "run only servers whose name contains one of these");
  shootout->add_option("--out", arguments->out, "directory for shootout.md and shootout.svg")->capture_default_str();
  shootout->callback([arguments] { run_shootout(*arguments); });
}

}  // namespace weft::tool
