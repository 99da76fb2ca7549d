// tools/weft/load/load_command.cpp — `weft load`: parses the options into a
// LoadOptions, runs the load generator, shows a progress line on a terminal,
// and prints the summary (or one JSON object with --json).
#include "weft/load/load_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "weft/load/load_generator.hpp"
#include "weft/load/load_report.hpp"
#include "weft/load/loopback_address.hpp"

namespace weft::tool {

namespace {

// With --requests and no --duration, the run may go on this long.
constexpr double kRequestsDurationCap = 600.0;

struct LoadCommandArgs {
  LoadOptions options;
  std::string protocol = "echo";
  double duration = 5.0;
  double warmup = 0.5;
  std::uint64_t requests = 0;
  int cpu = -1;
  int server_pid = 0;
  bool no_verify = false;
  bool json = false;
  CLI::Option* duration_option = nullptr;
  CLI::Option* requests_option = nullptr;
  CLI::Option* cpu_option = nullptr;
  CLI::Option* pid_option = nullptr;
};

void print_progress(const Progress& p) {
  if (p.phase == Progress::Phase::warmup) {
    std::fprintf(stderr, "\r\x1b[K  warming up %.1f s, %d connections", p.elapsed_seconds,
                 p.connections_alive);
  } else {
    std::fprintf(stderr, "\r\x1b[K  %.1f s  %llu requests  %.0f req/s  errors %llu", p.elapsed_seconds,
                 static_cast<unsigned long long>(p.requests), p.requests_per_second,
                 static_cast<unsigned long long>(p.errors));
  }
  std::fflush(stderr);
}

void run_load_command(LoadCommandArgs& args) {
  LoadOptions options = args.options;
  options.protocol = *parse_protocol(args.protocol);
  options.warmup = std::chrono::duration<double>(args.warmup);
  options.duration = std::chrono::duration<double>(args.duration);
  if (args.requests_option->count() > 0) {
    options.requests = args.requests;
    if (args.duration_option->count() == 0) {
      options.duration = std::chrono::duration<double>(kRequestsDurationCap);
    }
  }
  if (args.cpu_option->count() > 0) options.cpu = args.cpu;
  if (args.pid_option->count() > 0) options.server_pid = static_cast<pid_t>(args.server_pid);
  options.verify = !args.no_verify;
  const bool show_progress = !args.json && ::isatty(STDERR_FILENO) == 1;
  if (show_progress) options.on_progress = print_progress;

  LoadResult result;
  try {
    result = run_load(options);
  } catch (const std::invalid_argument& e) {
    if (show_progress) std::fputs("\r\x1b[K", stderr);
    fmt::print(stderr, "weft load: {}\n", e.what());
    throw CLI::RuntimeError(2);
  } catch (const std::system_error& e) {
    if (show_progress) std::fputs("\r\x1b[K", stderr);
    fmt::print(stderr, "weft load: {}\n", e.what());
    throw CLI::RuntimeError(1);
  }
  if (show_progress) std::fputs("\r\x1b[K", stderr);

  if (args.json) {
    fmt::print("{}\n", load_result_json(options, result));
  } else {
    fmt::print("{}", load_summary_text(options, result));
  }
  std::fflush(stdout);
  if (result.errors > 0 || result.requests == 0) throw CLI::RuntimeError(1);
}

}  // namespace

void add_load_command(CLI::App& app) {
  auto args = std::make_shared<LoadCommandArgs>();
  CLI::App* load = app.add_subcommand(
      "load",
      "Drive an echo or http server on this machine with many pipelined connections; "
      "print req/s, latency percentiles and CPU per request");
  LoadOptions& o = args->options;
  load->add_option("--port,-p", o.port, "Server port")->required()->check(CLI::Range(1, 65535));
  load->add_option("--host", o.host, "Server address; loopback only (127.0.0.0/8, ::1, localhost)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& host) {
            return is_loopback_host(host)
                       ? std::string()
                       : "'" + host + "' is not loopback: this tool only loads loopback "
                                      "(127.0.0.0/8, ::1, localhost)";
          },
          "LOOPBACK"));
  load->add_option("--protocol", args->protocol, "echo or http")
      ->capture_default_str()
      ->check(CLI::IsMember({"echo", "http"}));
  load->add_option("-c,--connections", o.connections, "Connections")->capture_default_str()->check(CLI::PositiveNumber);
  load->add_option("--size", o.message_size, "Echo request size in bytes")->capture_default_str()->check(CLI::PositiveNumber);
  load->add_option("--pipeline", o.pipeline, "Requests in flight per connection")->capture_default_str()->check(CLI::PositiveNumber);
  load->add_option("--threads", o.threads, "Client threads (one epoll loop each)")->capture_default_str()->check(CLI::PositiveNumber);
  args->requests_option = load->add_option(
      "--requests", args->requests,
      "Stop after this many measured responses (then --duration, if not given, caps the run at 600 s)")
      ->check(CLI::PositiveNumber);
  args->duration_option =
      load->add_option("--duration", args->duration, "Seconds to measure")->capture_default_str()->check(CLI::PositiveNumber);
  load->add_option("--warmup", args->warmup, "Seconds of uncounted traffic first")->capture_default_str()->check(CLI::NonNegativeNumber);
  args->cpu_option = load->add_option("--cpu", args->cpu, "Pin client thread i to core K+i")->check(CLI::NonNegativeNumber);
  args->pid_option = load->add_option("--server-pid", args->server_pid,
                                      "Sample the CPU time of this process and its children over the measured window")
                         ->check(CLI::PositiveNumber);
  load->add_flag("--no-verify", args->no_verify, "Do not compare response bytes");
  load->add_flag("--json", args->json, "Print one JSON object instead of the summary");
  load->callback([args] { run_load_command(*args); });
}

}  // namespace weft::tool
