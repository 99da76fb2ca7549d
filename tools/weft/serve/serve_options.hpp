// tools/weft/serve/serve_options.hpp — what `weft serve` was asked to run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "weft/protocol.hpp"
#include "weft/serve/model.hpp"

namespace weft::tool {

struct ServeOptions {
  Model model = Model::epoll;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: an ephemeral port, announced on stdout
  Protocol protocol = Protocol::echo;
  int loops = 1;    // epoll / io_uring: event loops, one thread each, SO_REUSEPORT listeners
  int workers = 4;  // prefork: worker processes
  std::optional<int> cpu;  // pin the server (its first loop) to this core
  // io_uring: wake for `batch` completions or after batch_wait_us (see
  // io::LoopOptions). Measured on a 2-core VM at 100 connections: about 6%
  // less server CPU per request, p50 latency unchanged under load; a lone
  // request may wait up to batch_wait_us longer. --batch 1 turns it off.
  unsigned batch = 16;
  unsigned batch_wait_us = 30;
};

}  // namespace weft::tool
