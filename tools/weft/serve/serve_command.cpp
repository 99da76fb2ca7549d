// tools/weft/serve/serve_command.cpp — `weft serve`: options, the listener,
// and the dispatch to a model.
#include "weft/serve/serve_command.hpp"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "weft/descriptor_limit.hpp"
#include "weft/net.hpp"
#include "weft/pin_to_core.hpp"
#include "weft/serve/listening_line.hpp"
#include "weft/serve/loop_server.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/stop_signal.hpp"

namespace weft::tool {
namespace {

struct ServeArguments {
  std::string model = "epoll";
  std::string protocol = "echo";
  std::string backend = "automatic";
  ServeOptions options;
};

void announce(const net::Address& address, std::string_view details) {
  std::printf("%s%s%s\n", std::string(kListeningOn).c_str(), address.to_string().c_str(), std::string(details).c_str());
  std::fflush(stdout);
}

void announce(const net::Socket& listener, std::string_view details) { announce(listener.getsockname(), details); }

std::optional<io::Backend> parse_backend(std::string_view name) {
  for (io::Backend backend : {io::Backend::automatic, io::Backend::epoll, io::Backend::io_uring})
    if (io::to_string(backend) == name) return backend;
  return std::nullopt;
}

// Listens and serves with the checked options until a stop is requested.
void listen_and_serve(const ServeOptions& options, bool multi_loop) {
  StopSignal stop;
  const net::Address address = net::Address::ipv4(options.host, options.port);
  // SO_REUSEPORT would share a port someone already listens on: bound
  // once without it first, a taken port is refused as for one loop.
  if (multi_loop && options.port != 0) net::create_server(address, 1, false).close();
  net::Socket listener = net::create_server(address, 4096, multi_loop);

  switch (options.model) {
    case Model::epoll:
    case Model::io_uring: {
      const auto wanted = options.model == Model::epoll ? io::Backend::epoll : io::Backend::io_uring;
      serve_loops(options, wanted, listener, stop.fd(), [&](io::Backend backend) {
        std::string details = fmt::format(" (model {}, backend {}, {} loop{}", model_name(options.model),
                                          io::to_string(backend), options.loops, options.loops > 1 ? "s" : "");
        if (backend == io::Backend::io_uring && *options.batch > 1)
          details += fmt::format(", batches of {} within {} µs", *options.batch, *options.batch_wait_us);
        details += ")";
        if (backend != wanted) details += fmt::format(" — {}", kFellBackToEpoll);
        announce(listener, details);
      });
      return;
    }
    case Model::prefork:
      serve_prefork(options, listener, stop, [&] {
        announce(listener, fmt::format(" (model prefork, {} workers)", options.workers));
      });
      return;
    case Model::green:
      serve_green(options, listener, stop, [&] { announce(listener, " (model green)"); });
      return;
    case Model::asyncio: {
      // The server takes the listener over: its address is read first.
      const net::Address address = listener.getsockname();
      const io::LoopOptions loop{.backend = options.backend,
                                 .batch = *options.batch,
                                 .batch_wait = std::chrono::microseconds(*options.batch_wait_us)};
      serve_asyncio(options, loop, listener, stop, [&](io::Backend running) {
        std::string details = fmt::format(" (model asyncio, backend {}", io::to_string(running));
        if (running == io::Backend::io_uring && *options.batch > 1)
          details += fmt::format(", batches of {} within {} µs", *options.batch, *options.batch_wait_us);
        details += ")";
        if (options.backend == io::Backend::io_uring && running != io::Backend::io_uring)
          details += fmt::format(" — {}", kFellBackToEpoll);
        announce(address, details);
      });
      return;
    }
    default:
      break;
  }
  announce(listener, fmt::format(" (model {})", model_name(options.model)));
  switch (options.model) {
    case Model::threads: serve_threads(options, listener, stop); break;
    case Model::processes: serve_processes(options, listener, stop); break;
    case Model::nonblocking: serve_nonblocking(options, listener, stop); break;
    case Model::select: serve_select(options, listener, stop); break;
    case Model::poll: serve_poll(options, listener, stop); break;
    default: break;
  }
}

void run_serve(ServeArguments& arguments) {
  raise_descriptor_limit();  // as much room for connections as the peers give themselves
  ServeOptions& options = arguments.options;
  const auto model = parse_model(arguments.model);
  const auto protocol = parse_protocol(arguments.protocol);
  if (!model) throw CLI::ValidationError("--model", "unknown model: " + arguments.model);
  if (!protocol) throw CLI::ValidationError("--protocol", "unknown protocol: " + arguments.protocol);
  const auto backend = parse_backend(arguments.backend);
  if (!backend) throw CLI::ValidationError("--backend", "unknown backend: " + arguments.backend);
  options.model = *model;
  options.protocol = *protocol;
  options.backend = *backend;
  const bool multi_loop = (options.model == Model::epoll || options.model == Model::io_uring) && options.loops > 1;
  if (options.loops > 1 && !multi_loop) throw CLI::ValidationError("--loops", "only the epoll and io_uring models run several loops");
  // See ServeOptions: a lone io_uring loop batches its wake-ups, several do not.
  if (!options.batch) options.batch = options.loops == 1 ? 16u : 1u;
  if (!options.batch_wait_us) options.batch_wait_us = options.loops == 1 ? 30u : 0u;
  if (options.cpu && !pin_to_core(*options.cpu)) throw CLI::ValidationError("--cpu", "no such core");
  // Whatever the server could not set up (the port, a descriptor, a
  // thread, a process) ends it with its reason.
  try {
    listen_and_serve(options, multi_loop);
  } catch (const std::exception& error) {
    fmt::print(stderr, "weft serve: {}\n", error.what());
    throw CLI::RuntimeError(1);
  }
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto arguments = std::make_shared<ServeArguments>();
  std::string models;
  for (const ModelInfo& info : kModels) models += fmt::format("\n  {:<12} {}", info.name, info.description);
  CLI::App* serve = app.add_subcommand("serve", "serve one IO model as an echo or http server on loopback");
  serve->add_option("-m,--model", arguments->model, "the IO model:" + models)->capture_default_str();
  serve->add_option("-p,--port", arguments->options.port, "port (0: any free port, announced)")->capture_default_str();
  serve->add_option("--host", arguments->options.host, "address to listen on")->capture_default_str();
  serve->add_option("--protocol", arguments->protocol, "echo or http")->capture_default_str();
  serve->add_option("--loops", arguments->options.loops, "epoll/io_uring: event loops, one thread each")
      ->check(CLI::Range(1, 256))->capture_default_str();
  serve->add_option("--pool-buffers", arguments->options.pool_buffers,
                    "epoll/io_uring: receive buffers of 16 KiB per loop, shared by its connections")
      ->check(CLI::Range(1, 32768))->capture_default_str();
  serve->add_option("--backend", arguments->backend, "asyncio: the event loop's IO backend (automatic, epoll, io_uring)")
      ->capture_default_str();
  serve->add_option("--workers", arguments->options.workers, "prefork: worker processes")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  serve->add_option("--cpu", arguments->options.cpu, "pin the server to this core");
  serve->add_option("--batch", arguments->options.batch,
                    "io_uring: completions to wait for per wake-up (with --batch-wait; default 16 for one loop, 1 for several)");
  serve->add_option("--batch-wait", arguments->options.batch_wait_us,
                    "io_uring: microseconds to wait for a --batch of completions (kernel 6.12+; default 30 for one loop)");
  serve->callback([arguments] { run_serve(*arguments); });
}

}  // namespace weft::tool
