// tools/weft/serve/serve_options.hpp — what `weft serve` was asked to run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "weft/io/loop.hpp"
#include "weft/protocol.hpp"
#include "weft/serve/model.hpp"

namespace weft::tool {

struct ServeOptions {
  Model model = Model::epoll;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, announced on stdout
  Protocol protocol = Protocol::echo;
  int loops = 1;    // epoll / io_uring: event loops, one thread each, SO_REUSEPORT listeners
  std::uint16_t pool_buffers = 4096;  // epoll / io_uring: receive buffers (16 KiB each) per loop
  int workers = 4;  // prefork: worker processes
  io::Backend backend = io::Backend::automatic;  // asyncio: the event loop's IO backend
  std::optional<int> cpu;  // pin the server (its first loop) to this core
  // io_uring: wake for `batch` completions or after batch_wait_us (see
  // io::LoopOptions); `weft serve` fills them in when unset: a lone loop
  // batches 16 within 30 µs, several loops do not batch. Measured on a 2-core VM, 64 B echo, 100
  // connections: a lone loop spent 6-10% less CPU per request with p50
  // latency unchanged under load; two loops sharing their cores with the
  // client spent far more (timer wake-ups for batches that never fill).
  std::optional<unsigned> batch;
  std::optional<unsigned> batch_wait_us;
};

}  // namespace weft::tool
