// weft::net::create_connection and create_server, after Python's socket.py.
#include "weft/net/connection.hpp"

#include <netinet/in.h>

#include <exception>

#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::net {

Socket create_connection(const Address& address, std::optional<std::chrono::nanoseconds> timeout,
                         const std::optional<Address>& source_address) {
  Socket sock(address.family(), SOCK_STREAM);
  if (timeout) sock.settimeout(*timeout);
  if (source_address) sock.bind(*source_address);
  sock.connect(address);
  return sock;
}

Socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<std::chrono::nanoseconds> timeout,
                         const std::optional<Address>& source_address) {
  if (timeout && *timeout < timeout->zero()) throw ValueError("Timeout value out of range");
  std::exception_ptr last_error;
  for (const AddrInfo& info : getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM)) {
    try {
      Socket sock(info.family, info.type, info.proto);
      if (timeout) sock.settimeout(*timeout);
      if (source_address) sock.bind(*source_address);
      sock.connect(info.address);
      return sock;
    } catch (const OSError&) {
      last_error = std::current_exception();
    }
  }
  if (last_error) std::rethrow_exception(last_error);
  throw OSError(std::error_code(), "getaddrinfo returns an empty list");
}

Socket create_server(const Address& address, int backlog, bool reuse_port, bool dualstack_ipv6) {
  if (dualstack_ipv6 && address.family() != AF_INET6)
    throw ValueError("dualstack_ipv6 requires AF_INET6 family");
  if (dualstack_ipv6 && !has_dualstack_ipv6())
    throw ValueError("dualstack_ipv6 not supported on this platform");
  Socket sock(address.family(), SOCK_STREAM);
  try {
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  } catch (const OSError&) {
    // Python ignores this too: the option only matters for a quick rebind.
  }
  if (reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  if (address.family() == AF_INET6)
    sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, dualstack_ipv6 ? 0 : 1);
  try {
    sock.bind(address);
  } catch (const OSError& error) {
    raise_os_error(error.code().value(), "bind " + address.to_string());
  }
  sock.listen(backlog);
  return sock;
}

bool has_dualstack_ipv6() noexcept {
  try {
    Socket sock(AF_INET6, SOCK_STREAM);
    sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0);
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace weft::net
