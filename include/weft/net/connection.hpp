// weft/net/connection.hpp — Python's socket.create_connection,
// socket.create_server and socket.has_dualstack_ipv6: a connected client or
// a listening server in one call, set up the way Python sets them up.
//
// Thread-safety: each call makes its own socket; safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "weft/net/address.hpp"
#include "weft/net/socket.hpp"

namespace weft::net {

// A stream socket connected to `address`. A `timeout` is set before
// connecting, so it bounds the connect too; without one the socket keeps
// getdefaulttimeout() (Python's _GLOBAL_DEFAULT_TIMEOUT). A
// `source_address` is bound first. Blocks for the connect; throws
// ValueError for a negative timeout, TimeoutError, ConnectionRefusedError
// and the other OSErrors.
Socket create_connection(const Address& address,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                         const std::optional<Address>& source_address = std::nullopt);
// Resolves `host` (any family, SOCK_STREAM) and tries each address in turn,
// returning the first connection made; if none is, rethrows the error of
// the last attempt (Python's rule without all_errors). Blocks on the
// resolver and the connects; throws gaierror as well as the errors above.
Socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                         const std::optional<Address>& source_address = std::nullopt);

// A stream socket bound to `address` and listening, with SO_REUSEADDR set
// (so a restarted server can rebind at once), SO_REUSEPORT if `reuse_port`,
// and, for AF_INET6, IPV6_V6ONLY unless `dualstack_ipv6` asks for one socket
// accepting IPv4 and IPv6. Throws ValueError for dualstack_ipv6 without
// AF_INET6 or without OS support, OSError when binding fails (what() names
// the address: "[Errno 98] Address already in use: bind 127.0.0.1:80").
// Never blocks.
Socket create_server(const Address& address, int backlog = 128, bool reuse_port = false,
                     bool dualstack_ipv6 = false);

// Whether an AF_INET6 stream socket can also accept IPv4 connections.
// Never blocks; never throws.
bool has_dualstack_ipv6() noexcept;

}  // namespace weft::net
