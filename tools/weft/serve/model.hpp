// tools/weft/serve/model.hpp — the IO models `weft serve` runs, by name.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace weft::tool {

enum class Model {
  threads,      // blocking sockets, a thread per connection (seed 002's first model)
  processes,    // blocking sockets, a forked process per connection (seed 004)
  prefork,      // N processes forked up front, each an event loop on the shared listener (seed 004's pool)
  nonblocking,  // seed 002's busy-polling loop over non-blocking sockets: burns a core by design
  select,       // selectors::SelectSelector, the seeds' select() server
  poll,         // selectors::PollSelector
  epoll,        // io::Loop on its epoll backend (readiness)
  io_uring,     // io::Loop on its io_uring backend (completion)
  green,        // a greenlet per connection on cooperative sockets (gevent's model)
  asyncio,      // a coroutine per connection on aio streams (asyncio's start_server model)
};

struct ModelInfo {
  Model model;
  std::string_view name;
  std::string_view description;
};

inline constexpr std::array<ModelInfo, 10> kModels{{
    {Model::threads, "threads", "blocking IO, one thread per connection"},
    {Model::processes, "processes", "blocking IO, one forked process per connection"},
    {Model::prefork, "prefork", "a pool of forked processes, each an epoll loop on one listener"},
    {Model::nonblocking, "nonblocking", "non-blocking sockets polled in a busy loop"},
    {Model::select, "select", "IO multiplexing with select(2) (selectors.SelectSelector)"},
    {Model::poll, "poll", "IO multiplexing with poll(2) (selectors.PollSelector)"},
    {Model::epoll, "epoll", "the event-loop core on epoll: readiness, then the system call"},
    {Model::io_uring, "io_uring", "the event-loop core on io_uring: asynchronous IO, batched"},
    {Model::green, "green", "a greenlet per connection on the hub (gevent's StreamServer model)"},
    {Model::asyncio, "asyncio", "a coroutine per connection on aio streams (asyncio's start_server model)"},
}};

inline std::optional<Model> parse_model(std::string_view name) {
  for (const ModelInfo& info : kModels)
    if (info.name == name) return info.model;
  return std::nullopt;
}

inline std::string_view model_name(Model model) {
  for (const ModelInfo& info : kModels)
    if (info.model == model) return info.name;
  return "?";
}

}  // namespace weft::tool
