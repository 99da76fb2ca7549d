// Resolving a host for the streams: numeric at once, names on a thread.
#include "resolve.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <optional>

#include "weft/aio/threads.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio::detail {
namespace {

std::vector<net::AddrInfo> lookup(const std::string& host, std::uint16_t port, int flags) {
  return net::getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM, 0, flags);
}

// nullopt when `host` is a name, which only the resolver can answer.
std::optional<std::vector<net::AddrInfo>> lookup_numeric(const std::string& host, std::uint16_t port, int flags) {
  try {
    return lookup(host, port, flags | AI_NUMERICHOST);
  } catch (const net::gaierror& error) {
    if (error.code().value() != EAI_NONAME) throw;
    return std::nullopt;
  }
}

}  // namespace

Task<std::vector<net::AddrInfo>> resolve(std::string host, std::uint16_t port, int flags) {
  if (auto numeric = lookup_numeric(host, port, flags)) co_return std::move(*numeric);
  co_return co_await to_thread(lookup, std::move(host), port, flags);
}

}  // namespace weft::aio::detail
