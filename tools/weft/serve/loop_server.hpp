// tools/weft/serve/loop_server.hpp — the epoll and io_uring models of
// `weft serve`: io::Loop servers, one loop per thread.
#pragma once

#include <functional>

#include "weft/io/loop.hpp"
#include "weft/net/socket.hpp"
#include "weft/serve/serve_options.hpp"

namespace weft::tool {

// Serves on `listener` with options.loops loops (the first on this thread,
// each further one on a thread of its own with its own SO_REUSEPORT
// listener on the same address; `listener` must have SO_REUSEPORT then)
// until stop_fd becomes readable. on_ready(backend) runs once the loops are
// set up, with the backend they actually run (io_uring falls back to epoll
// where the kernel forbids it). Returns that backend. A loop that cannot
// be set up, or fails while serving, stops the others (writing stop_fd) and
// its exception is rethrown here once every loop has ended.
io::Backend serve_loops(const ServeOptions& options, io::Backend backend, net::Socket& listener,
                        int stop_fd, const std::function<void(io::Backend)>& on_ready);

}  // namespace weft::tool
