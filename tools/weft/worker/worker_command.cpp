// tools/weft/worker/worker_command.cpp — `weft worker`: options, the Redis
// check, then the supervisor.
#include "weft/worker/worker_command.hpp"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "weft/dist/detail/wire.hpp"
#include "weft/dist/errors.hpp"
#include "weft/dist/redis.hpp"
#include "weft/errors.hpp"
#include "weft/worker/worker_supervisor.hpp"

namespace weft::tool {
namespace {

struct WorkerArguments {
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string queue;
  std::size_t concurrency = std::max(1u, std::thread::hardware_concurrency());
  std::size_t threads = 1;
  double visibility_timeout = 30;
  std::string executable;
  std::vector<std::string> arguments;
};

// The longest --visibility-timeout: a week of silence, far inside what the
// milliseconds the workers count in can hold.
constexpr double kMaxVisibilitySeconds = 7 * 24 * 3600;

// What is wrong with a --visibility-timeout, or "" if nothing: it must be a
// finite number of seconds, more than 0 and at most kMaxVisibilitySeconds.
std::string check_visibility_timeout(const std::string& text) {
  double seconds = 0;
  if (!CLI::detail::lexical_cast(text, seconds) || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > kMaxVisibilitySeconds)
    return fmt::format("must be more than 0 and at most {:.0f} seconds, not {}", kMaxVisibilitySeconds, text);
  return "";
}

[[noreturn]] void fail(int status, const std::string& message) {
  fmt::print(stderr, "weft worker: {}\n", message);
  throw CLI::RuntimeError(status);
}

void run_worker_command(const WorkerArguments& arguments) {
  SupervisorOptions options;
  options.executable = arguments.executable;
  options.arguments = arguments.arguments;
  options.concurrency = arguments.concurrency;
  options.worker.redis_url = arguments.redis_url;
  options.worker.queue = arguments.queue;
  options.worker.threads = arguments.threads;
  options.worker.visibility_timeout = std::chrono::ceil<std::chrono::milliseconds>(
      std::chrono::duration<double>(arguments.visibility_timeout));
  try {
    dist::detail::check_queue_name(options.worker.queue);
    dist::RedisConnection(dist::RedisUrl::parse(options.worker.redis_url)).command({"PING"});
  } catch (const ValueError& error) {
    fail(2, error.what());
  } catch (const dist::RedisError& error) {
    fail(1, error.what());
  }
  try {
    supervise(options);
  } catch (const std::system_error& error) {
    fail(1, error.what());
  }
}

}  // namespace

void add_worker_command(CLI::App& app) {
  auto arguments = std::make_shared<WorkerArguments>();
  CLI::App* worker = app.add_subcommand(
      "worker",
      "Run the weft::dist tasks of a program: N processes of it serve a queue of a Redis server "
      "(weft worker --queue jobs ./app [args...])");
  worker->add_option("--redis", arguments->redis_url, "The Redis server: redis://[[user]:password@]host[:port][/db]")
      ->capture_default_str();
  worker->add_option("--queue", arguments->queue, "The queue to serve")->required();
  worker->add_option("--concurrency,-c", arguments->concurrency, "Worker processes (default: one per CPU)")
      ->check(CLI::PositiveNumber);
  worker->add_option("--threads,-t", arguments->threads,
                     "Serving threads in each worker process, for tasks that wait more than they compute")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  worker->add_option("--visibility-timeout", arguments->visibility_timeout,
                     "Seconds after which a task held by a silent worker is taken by another")
      ->capture_default_str()
      ->check(CLI::Validator(check_visibility_timeout, "SECONDS"));
  worker->add_option("executable", arguments->executable, "The program (linked with weft::dist) to run as workers")
      ->required();
  worker->add_option("arguments", arguments->arguments, "The program's arguments");
  // Everything after the program is its own, options included.
  worker->positionals_at_end();
  worker->callback([arguments] { run_worker_command(*arguments); });
}

}  // namespace weft::tool
