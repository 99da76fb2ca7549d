// tools/weft/load/loopback_address.cpp — numeric parsing of loopback hosts
// with inet_pton; no name resolution beyond the fixed "localhost".
#include "weft/load/loopback_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace weft::tool {

std::optional<LoopbackAddress> loopback_address(const std::string& host,
                                                std::uint16_t port) noexcept {
  std::string text = host == "localhost" ? std::string("127.0.0.1") : host;
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  LoopbackAddress address;
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    if ((ntohl(v4.s_addr) >> 24) != 127) return std::nullopt;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sin.sin_addr = v4;
    std::memcpy(&address.storage, &sin, sizeof sin);
    address.length = sizeof sin;
    return address;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    if (!IN6_IS_ADDR_LOOPBACK(&v6)) return std::nullopt;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sin6.sin6_addr = v6;
    std::memcpy(&address.storage, &sin6, sizeof sin6);
    address.length = sizeof sin6;
    return address;
  }
  return std::nullopt;
}

bool is_loopback_host(const std::string& host) noexcept {
  return loopback_address(host, 0).has_value();
}

}  // namespace weft::tool
