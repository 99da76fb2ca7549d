// src/aio/resolve.hpp — getaddrinfo() for the streams, without blocking the
// loop: a numeric host (or "") resolves at once, a name on the loop's
// default executor (to_thread), since the system resolver blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "weft/aio/task.hpp"
#include "weft/net/address.hpp"

namespace weft::aio::detail {

// The stream-socket addresses (any family) of host and port; `flags` adds
// AI_ flags (AI_PASSIVE for a server: "" is then every interface, else
// loopback). Throws net::gaierror; CancelledError if the task is cancelled
// while a name is being resolved.
Task<std::vector<net::AddrInfo>> resolve(std::string host, std::uint16_t port, int flags = 0);

}  // namespace weft::aio::detail
