// weft/net/address.hpp — socket addresses and name resolution: what Python
// spells as ('127.0.0.1', 8080) tuples and path strings, and its
// getaddrinfo() and gethostname().
//
// An Address owns a sockaddr (a sockaddr_storage and its length) of family
// AF_INET, AF_INET6 or AF_UNIX — the latter a filesystem path, a Linux
// abstract name (starting with '\0') or unnamed (an autobind request, or the
// address of an unbound peer). data()/size() hand it to the socket syscalls.
// Its text form is "127.0.0.1:8080", "[::1]:80", "unix:/tmp/x" or, for an
// abstract name, "unix:@name"; parse() reads exactly that form back.
//
// Thread-safety: an Address is a plain value; const members may be called
// concurrently. getaddrinfo() and gethostname() are safe from any thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace weft::net {

class Address {
 public:
  // An empty address of family AF_UNSPEC and size 0 (what recvfrom() reports
  // for a connected stream socket, where Python returns None).
  Address() noexcept;
  // Copies a raw sockaddr of `size` bytes. Throws ValueError if `size`
  // exceeds sizeof(sockaddr_storage). Never blocks.
  Address(const sockaddr* address, socklen_t size);

  // An IPv4 address. `host` is a dotted quad, "" for INADDR_ANY,
  // "<broadcast>" for INADDR_BROADCAST, or a host name — which, as in Python,
  // is resolved (IPv4 only) and so may block on the resolver and throws
  // gaierror if it fails. Throws ValueError if `host` holds a '\0'.
  static Address ipv4(std::string_view host, std::uint16_t port);
  // An IPv6 address. `host` is numeric ("::1", "fe80::1%eth0"), "" for
  // in6addr_any, or a host name, resolved as for ipv4(); ValueError as
  // there. A non-zero `scope_id` overrides any scope in `host`.
  static Address ipv6(std::string_view host, std::uint16_t port, std::uint32_t flowinfo = 0,
                      std::uint32_t scope_id = 0);
  // An AF_UNIX address: a filesystem path, an abstract name when `path`
  // starts with '\0', or "" for an unnamed address (binding to it autobinds
  // to a fresh abstract name). Throws OSError (ENAMETOOLONG) if the path does
  // not fit sun_path, ValueError if a filesystem path holds a '\0'.
  static Address unix_path(std::string_view path);
  // Reads the text form: "a.b.c.d:port" (or ":port" for INADDR_ANY),
  // "[v6]:port" (a scope may follow '%'), "unix:/path", "unix:@abstract".
  // Hosts must be numeric: parse() never consults a resolver and never
  // blocks. Throws ValueError for anything else, and what unix_path()
  // throws for a path that does not fit.
  static Address parse(std::string_view text);

  // AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC.
  int family() const noexcept;
  // The numeric host of an IP address ("127.0.0.1", "::1", "fe80::1%eth0");
  // "" for other families.
  std::string host() const;
  // The port of an IP address in host byte order; 0 for other families.
  std::uint16_t port() const noexcept;
  // The IPv6 flow label and scope id; 0 for other families.
  std::uint32_t flowinfo() const noexcept;
  std::uint32_t scope_id() const noexcept;
  // The path of an AF_UNIX address: a filesystem path, an abstract name
  // with its leading '\0', or "" when unnamed; "" for other families.
  std::string path() const;
  // The text form described above; "<unspecified>" for AF_UNSPEC and
  // "<family N>" for families this type does not know.
  std::string to_string() const;

  // The raw sockaddr and its length, for the socket syscalls.
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return size_; }

  // Same family and same address; for AF_UNIX, the same path.
  friend bool operator==(const Address& a, const Address& b) noexcept;

 private:
  friend struct std::hash<Address>;

  std::string_view path_view() const noexcept;

  sockaddr_storage storage_;
  socklen_t size_ = 0;
};

// One result of getaddrinfo(), Python's (family, type, proto, canonname,
// sockaddr) tuple.
struct AddrInfo {
  int family = AF_UNSPEC;
  int type = 0;
  int proto = 0;
  std::string canonname;  // only the first entry, and only with AI_CANONNAME
  Address address;
};

// Resolves `host` and `port` into the addresses a socket may bind or connect
// to, filtered by family (AF_UNSPEC: any), type (SOCK_STREAM, SOCK_DGRAM; 0:
// any), proto and AI_* flags, in the resolver's order. An empty `host` means
// Python's None: the wildcard address with AI_PASSIVE, loopback otherwise.
// Blocks on the resolver (files, DNS) unless `flags` has AI_NUMERICHOST.
// Throws gaierror (OSError for EAI_SYSTEM), ValueError if a name holds a '\0'.
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port, int family = AF_UNSPEC,
                                  int type = 0, int proto = 0, int flags = 0);
// As above with a service name or numeric string ("http", "8080"); an empty
// `service` means None (port 0).
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service,
                                  int family = AF_UNSPEC, int type = 0, int proto = 0,
                                  int flags = 0);

// The machine's host name. Never blocks; throws OSError.
std::string gethostname();

}  // namespace weft::net

// Hashes part of what operator== compares, so an Address can key an
// unordered map.
template <>
struct std::hash<weft::net::Address> {
  std::size_t operator()(const weft::net::Address& address) const noexcept;
};
