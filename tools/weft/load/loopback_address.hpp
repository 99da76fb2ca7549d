// tools/weft/load/loopback_address.hpp — turns the host and port `weft load`
// was given into a socket address, refusing anything that is not loopback:
// the load generator only ever sends traffic to this machine.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace weft::tool {

struct LoopbackAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family() const noexcept { return storage.ss_family; }
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

// The address of `host`:`port` if `host` is a numeric loopback address
// (127.0.0.0/8 or ::1, optionally in [brackets]) or "localhost"
// (127.0.0.1); nullopt otherwise. Never resolves names, never throws.
std::optional<LoopbackAddress> loopback_address(const std::string& host,
                                                std::uint16_t port) noexcept;

// loopback_address(host, any port).has_value().
bool is_loopback_host(const std::string& host) noexcept;

}  // namespace weft::tool
