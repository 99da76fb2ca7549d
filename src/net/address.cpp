// weft::net::Address, getaddrinfo and gethostname over the libc resolver.
#include "weft/net/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

#include "weft/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::net {

namespace {

constexpr socklen_t kUnixPathOffset = offsetof(sockaddr_un, sun_path);

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const noexcept { ::freeaddrinfo(list); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

// `text` as a C string for libc; throws ValueError if it holds a '\0', where
// libc would cut it short.
std::string c_string(std::string_view text, std::string_view what) {
  if (text.find('\0') != std::string_view::npos)
    throw ValueError(std::string(what) + " must not contain null character");
  return std::string(text);
}

// Calls ::getaddrinfo; empty strings stand for null pointers.
AddrInfoList resolve(std::string_view host, std::string_view service, int family, int type,
                     int proto, int flags) {
  const std::string node = c_string(host, "host name");
  const std::string serv = c_string(service, "service name");
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = type;
  hints.ai_protocol = proto;
  hints.ai_flags = flags;
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(node.empty() ? nullptr : node.c_str(),
                               serv.empty() ? nullptr : serv.c_str(), &hints, &list);
  if (rc == EAI_SYSTEM) raise_os_error(errno, "getaddrinfo");
  if (rc != 0) throw gaierror(rc, node.empty() ? serv : node);
  return AddrInfoList(list);
}

// The first address `host` resolves to in `family`.
Address resolve_one(std::string_view host, int family) {
  const AddrInfoList list = resolve(host, {}, family, SOCK_STREAM, 0, 0);
  return Address(list->ai_addr, list->ai_addrlen);
}

// At most `digits` digits, nothing else, for a number at most `max`.
bool parse_decimal(std::string_view text, std::size_t digits, std::uint32_t max,
                   std::uint32_t& number) {
  if (text.empty() || text.size() > digits) return false;
  std::uint64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > max) return false;
  number = static_cast<std::uint32_t>(value);
  return true;
}

bool parse_port(std::string_view text, std::uint16_t& port) {
  std::uint32_t number = 0;
  if (!parse_decimal(text, 5, 65535, number)) return false;
  port = static_cast<std::uint16_t>(number);
  return true;
}

// An interface name or a number after '%'; 0 if neither.
std::uint32_t parse_scope(const std::string& scope) {
  std::uint32_t number = 0;
  if (parse_decimal(scope, 10, UINT32_MAX, number)) return number;
  return ::if_nametoindex(scope.c_str());
}

[[noreturn]] void invalid(std::string_view text) {
  throw ValueError("invalid socket address: '" + std::string(text) + "'");
}

// 64-bit FNV-1a.
std::size_t fnv(const void* data, std::size_t size, std::size_t seed) noexcept {
  std::uint64_t hash = seed;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * 0x100000001b3ULL;
  return static_cast<std::size_t>(hash);
}

}  // namespace

Address::Address() noexcept : storage_{} {}

Address::Address(const sockaddr* address, socklen_t size) : storage_{} {
  if (size > sizeof(storage_)) throw ValueError("socket address too long");
  if (size > 0) std::memcpy(&storage_, address, size);
  size_ = size;
}

Address Address::ipv4(std::string_view host, std::uint16_t port) {
  Address result;
  auto& in = reinterpret_cast<sockaddr_in&>(result.storage_);
  const std::string name = c_string(host, "host name");
  if (name.empty()) {
    in.sin_addr.s_addr = htonl(INADDR_ANY);
  } else if (name == "<broadcast>") {
    in.sin_addr.s_addr = htonl(INADDR_BROADCAST);
  } else if (::inet_pton(AF_INET, name.c_str(), &in.sin_addr) != 1) {
    in.sin_addr = reinterpret_cast<const sockaddr_in*>(resolve_one(name, AF_INET).data())->sin_addr;
  }
  in.sin_family = AF_INET;
  in.sin_port = htons(port);
  result.size_ = sizeof(sockaddr_in);
  return result;
}

Address Address::ipv6(std::string_view host, std::uint16_t port, std::uint32_t flowinfo,
                      std::uint32_t scope_id) {
  Address result;
  auto& in6 = reinterpret_cast<sockaddr_in6&>(result.storage_);
  const std::string name = c_string(host, "host name");
  if (name.empty()) {
    in6.sin6_addr = in6addr_any;
  } else if (::inet_pton(AF_INET6, name.c_str(), &in6.sin6_addr) != 1) {
    const Address resolved = resolve_one(name, AF_INET6);
    const auto* found = reinterpret_cast<const sockaddr_in6*>(resolved.data());
    in6.sin6_addr = found->sin6_addr;
    in6.sin6_scope_id = found->sin6_scope_id;
  }
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(port);
  in6.sin6_flowinfo = htonl(flowinfo);
  if (scope_id != 0) in6.sin6_scope_id = scope_id;
  result.size_ = sizeof(sockaddr_in6);
  return result;
}

Address Address::unix_path(std::string_view path) {
  Address result;
  auto& un = reinterpret_cast<sockaddr_un&>(result.storage_);
  const bool abstract = path.empty() || path.front() == '\0';
  if (abstract ? path.size() > sizeof(un.sun_path) : path.size() >= sizeof(un.sun_path))
    throw OSError(ENAMETOOLONG, "AF_UNIX path too long");
  if (!abstract && path.find('\0') != std::string_view::npos)
    throw ValueError("embedded null byte in AF_UNIX path");
  un.sun_family = AF_UNIX;
  if (!path.empty()) std::memcpy(un.sun_path, path.data(), path.size());
  result.size_ = static_cast<socklen_t>(kUnixPathOffset + path.size() + (abstract ? 0 : 1));
  return result;
}

Address Address::parse(std::string_view text) {
  constexpr std::string_view kUnix = "unix:";
  if (text.substr(0, kUnix.size()) == kUnix) {
    const std::string_view rest = text.substr(kUnix.size());
    if (!rest.empty() && rest.front() == '@')
      return unix_path(std::string(1, '\0') + std::string(rest.substr(1)));
    return unix_path(rest);
  }
  const auto colon = text.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string_view::npos || !parse_port(text.substr(colon + 1), port)) invalid(text);
  std::string_view host = text.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') invalid(text);
    host = host.substr(1, host.size() - 2);
    std::string numeric(host);
    std::uint32_t scope_id = 0;
    if (const auto percent = numeric.find('%'); percent != std::string::npos) {
      scope_id = parse_scope(numeric.substr(percent + 1));
      if (scope_id == 0) invalid(text);
      numeric.resize(percent);
    }
    in6_addr probe{};
    if (::inet_pton(AF_INET6, numeric.c_str(), &probe) != 1) invalid(text);
    return ipv6(numeric, port, 0, scope_id);
  }
  in_addr probe{};
  if (!host.empty() && ::inet_pton(AF_INET, std::string(host).c_str(), &probe) != 1) invalid(text);
  return ipv4(host, port);
}

int Address::family() const noexcept {
  return size_ >= sizeof(sa_family_t) ? storage_.ss_family : AF_UNSPEC;
}

std::string Address::host() const {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 1] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(storage_).sin_addr, text,
                sizeof(text));
    return text;
  }
  if (family() == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage_);
    ::inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    std::string result = text;
    if (in6.sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      result += '%';
      result += ::if_indextoname(in6.sin6_scope_id, name) != nullptr
                    ? std::string(name)
                    : std::to_string(in6.sin6_scope_id);
    }
    return result;
  }
  return {};
}

std::uint16_t Address::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(storage_).sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(storage_).sin6_port);
  return 0;
}

std::uint32_t Address::flowinfo() const noexcept {
  if (family() != AF_INET6) return 0;
  return ntohl(reinterpret_cast<const sockaddr_in6&>(storage_).sin6_flowinfo);
}

std::uint32_t Address::scope_id() const noexcept {
  if (family() != AF_INET6) return 0;
  return reinterpret_cast<const sockaddr_in6&>(storage_).sin6_scope_id;
}

std::string_view Address::path_view() const noexcept {
  if (family() != AF_UNIX || size_ <= kUnixPathOffset) return {};
  const auto& un = reinterpret_cast<const sockaddr_un&>(storage_);
  const std::size_t length = size_ - kUnixPathOffset;
  if (un.sun_path[0] == '\0') return std::string_view(un.sun_path, length);
  return std::string_view(un.sun_path, ::strnlen(un.sun_path, length));
}

std::string Address::path() const { return std::string(path_view()); }

std::string Address::to_string() const {
  switch (family()) {
    case AF_INET:
      return host() + ':' + std::to_string(port());
    case AF_INET6:
      return '[' + host() + "]:" + std::to_string(port());
    case AF_UNIX: {
      const std::string name = path();
      if (!name.empty() && name.front() == '\0') return "unix:@" + name.substr(1);
      return "unix:" + name;
    }
    case AF_UNSPEC:
      return "<unspecified>";
    default:
      return "<family " + std::to_string(family()) + '>';
  }
}

bool operator==(const Address& a, const Address& b) noexcept {
  if (a.family() != b.family()) return false;
  switch (a.family()) {
    case AF_UNSPEC:
      return true;
    case AF_INET: {
      const auto& x = reinterpret_cast<const sockaddr_in&>(a.storage_);
      const auto& y = reinterpret_cast<const sockaddr_in&>(b.storage_);
      return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
    }
    case AF_INET6: {
      const auto& x = reinterpret_cast<const sockaddr_in6&>(a.storage_);
      const auto& y = reinterpret_cast<const sockaddr_in6&>(b.storage_);
      return x.sin6_port == y.sin6_port && x.sin6_flowinfo == y.sin6_flowinfo &&
             x.sin6_scope_id == y.sin6_scope_id &&
             std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
    }
    case AF_UNIX:
      return a.path_view() == b.path_view();
    default:
      return a.size_ == b.size_ && std::memcmp(&a.storage_, &b.storage_, a.size_) == 0;
  }
}

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port, int family, int type,
                                  int proto, int flags) {
  return getaddrinfo(host, std::to_string(port), family, type, proto, flags | AI_NUMERICSERV);
}

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service, int family,
                                  int type, int proto, int flags) {
  const AddrInfoList list = resolve(host, service, family, type, proto, flags);
  std::vector<AddrInfo> result;
  for (const addrinfo* entry = list.get(); entry != nullptr; entry = entry->ai_next) {
    result.push_back(AddrInfo{entry->ai_family, entry->ai_socktype, entry->ai_protocol,
                              entry->ai_canonname != nullptr ? entry->ai_canonname : "",
                              Address(entry->ai_addr, entry->ai_addrlen)});
  }
  return result;
}

std::string gethostname() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) raise_os_error(errno, "gethostname");
  return name;
}

}  // namespace weft::net

std::size_t std::hash<weft::net::Address>::operator()(
    const weft::net::Address& address) const noexcept {
  using weft::net::fnv;
  const int family = address.family();
  std::size_t hash = fnv(&family, sizeof(family), 0xcbf29ce484222325ULL);
  if (family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address.storage_);
    hash = fnv(&in.sin_addr, sizeof(in.sin_addr), hash);
    return fnv(&in.sin_port, sizeof(in.sin_port), hash);
  }
  if (family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address.storage_);
    hash = fnv(&in6.sin6_addr, sizeof(in6.sin6_addr), hash);
    return fnv(&in6.sin6_port, sizeof(in6.sin6_port), hash);
  }
  const std::string_view path = address.path_view();
  return fnv(path.data(), path.size(), hash);
}
