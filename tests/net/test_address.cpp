// weft::net::Address, getaddrinfo and gethostname: construction, text form, equality, resolution
// that never leaves the machine.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <sys/un.h>
#include <weft/errors.hpp>
#include <weft/net.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_set>

#include "net/net_support.hpp"

namespace {

namespace net = weft::net;
using net::Address;

TEST(Address, DefaultIsUnspecified) {
  const Address address;
  EXPECT_EQ(address.family(), AF_UNSPEC);
  EXPECT_EQ(address.size(), 0u);
  EXPECT_EQ(address.to_string(), "<unspecified>");
  EXPECT_EQ(address.host(), "");
  EXPECT_EQ(address.port(), 0);
  EXPECT_EQ(address, Address());
}

TEST(Address, Ipv4) {
  const Address address = Address::ipv4("127.0.0.1", 8080);
  EXPECT_EQ(address.family(), AF_INET);
  EXPECT_EQ(address.host(), "127.0.0.1");
  EXPECT_EQ(address.port(), 8080);
  EXPECT_EQ(address.path(), "");
  EXPECT_EQ(address.size(), sizeof(sockaddr_in));
  EXPECT_EQ(address.to_string(), "127.0.0.1:8080");
  const auto* raw = reinterpret_cast<const sockaddr_in*>(address.data());
  EXPECT_EQ(raw->sin_port, htons(8080));
  EXPECT_EQ(raw->sin_addr.s_addr, htonl(INADDR_LOOPBACK));
}

TEST(Address, Ipv4SpecialHosts) {
  EXPECT_EQ(Address::ipv4("", 80).host(), "0.0.0.0");
  EXPECT_EQ(Address::ipv4("<broadcast>", 80).host(), "255.255.255.255");
}

TEST(Address, Ipv4ResolvesLocalhost) {
  EXPECT_EQ(Address::ipv4("localhost", 1).host(), "127.0.0.1");
}

TEST(Address, HostWithANulIsValueError) {
  using namespace std::string_view_literals;
  EXPECT_THROW(Address::ipv4("127.0.0.1\0evil.example"sv, 80), weft::ValueError);
  EXPECT_THROW(Address::ipv4("localhost\0.attacker.example"sv, 80), weft::ValueError);
  EXPECT_THROW(Address::ipv6("::1\0evil"sv, 80), weft::ValueError);
  EXPECT_THROW(Address::parse("10.0.0.1\0garbage:80"sv), weft::ValueError);
  EXPECT_THROW(Address::parse("[::1\0x]:80"sv), weft::ValueError);
  EXPECT_THROW(net::getaddrinfo("localhost\0.attacker.example"sv, 80), weft::ValueError);
  EXPECT_THROW(net::getaddrinfo("localhost"sv, "80\0x"sv), weft::ValueError);
}

TEST(Address, Ipv6) {
  const Address address = Address::ipv6("::1", 80, 5, 0);
  EXPECT_EQ(address.family(), AF_INET6);
  EXPECT_EQ(address.host(), "::1");
  EXPECT_EQ(address.port(), 80);
  EXPECT_EQ(address.flowinfo(), 5u);
  EXPECT_EQ(address.scope_id(), 0u);
  EXPECT_EQ(address.size(), sizeof(sockaddr_in6));
  EXPECT_EQ(address.to_string(), "[::1]:80");
  EXPECT_EQ(Address::ipv6("", 1).host(), "::");
}

TEST(Address, Ipv6Scope) {
  const Address by_number = Address::ipv6("fe80::1", 22, 0, 1);
  EXPECT_EQ(by_number.scope_id(), 1u);
  const Address parsed = Address::parse("[fe80::1%1]:22");
  EXPECT_EQ(parsed, by_number);
  EXPECT_EQ(Address::parse(parsed.to_string()), parsed);
}

TEST(Address, NumericScopeRoundTripsBeyond16Bits) {
  for (const std::uint32_t scope : {70000u, 4294967295u}) {
    const Address address = Address::ipv6("fe80::1", 80, 0, scope);
    EXPECT_EQ(Address::parse(address.to_string()), address) << address.to_string();
  }
  EXPECT_THROW(Address::parse("[fe80::1%4294967296]:80"), weft::ValueError);
}

TEST(Address, UnixPath) {
  const Address address = Address::unix_path("/tmp/weft.sock");
  EXPECT_EQ(address.family(), AF_UNIX);
  EXPECT_EQ(address.path(), "/tmp/weft.sock");
  EXPECT_EQ(address.to_string(), "unix:/tmp/weft.sock");
  EXPECT_EQ(address.size(), offsetof(sockaddr_un, sun_path) + std::strlen("/tmp/weft.sock") + 1);
  EXPECT_EQ(address.host(), "");
  EXPECT_EQ(address.port(), 0);
}

TEST(Address, UnixAbstract) {
  const std::string name("\0weft", 5);
  const Address address = Address::unix_path(name);
  EXPECT_EQ(address.path(), name);
  EXPECT_EQ(address.to_string(), "unix:@weft");
  EXPECT_EQ(address.size(), offsetof(sockaddr_un, sun_path) + name.size());
}

TEST(Address, UnixUnnamed) {
  const Address address = Address::unix_path("");
  EXPECT_EQ(address.family(), AF_UNIX);
  EXPECT_EQ(address.path(), "");
  EXPECT_EQ(address.to_string(), "unix:");
  EXPECT_EQ(address.size(), sizeof(sa_family_t));
}

TEST(Address, UnixPathLimits) {
  constexpr std::size_t kRoom = sizeof(sockaddr_un{}.sun_path);
  EXPECT_NO_THROW(Address::unix_path("/" + std::string(kRoom - 2, 'a')));
  try {
    Address::unix_path("/" + std::string(kRoom - 1, 'a'));
    ADD_FAILURE() << "a path without room for its NUL was accepted";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::filename_too_long);
  }
  EXPECT_NO_THROW(Address::unix_path(std::string(1, '\0') + std::string(kRoom - 1, 'a')));
  EXPECT_THROW(Address::unix_path(std::string(1, '\0') + std::string(kRoom, 'a')), net::OSError);
  EXPECT_THROW(Address::unix_path(std::string("/tmp/a\0b", 8)), weft::ValueError);
}

TEST(Address, ParseRoundTrips) {
  for (const char* text : {"127.0.0.1:8080", "0.0.0.0:0", "255.255.255.255:65535", "[::1]:80",
                           "[::]:0", "[::ffff:1.2.3.4]:5", "[2001:db8::7]:443", "unix:/tmp/sock",
                           "unix:relative/sock", "unix:@abstract", "unix:"}) {
    EXPECT_EQ(Address::parse(text).to_string(), text);
  }
  EXPECT_EQ(Address::parse(":8080"), Address::ipv4("", 8080));
  EXPECT_EQ(Address::parse("unix:@x").path(), std::string("\0x", 2));
  EXPECT_EQ(Address::parse("[::1]:80"), Address::ipv6("::1", 80));
}

TEST(Address, ParseRejectsMalformedText) {
  for (const char* text :
       {"", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
        "localhost:80", "::1:80", "[::1]", "[::1]80", "[]:80", "[nothex]:1", "1.2.3:4",
        " 127.0.0.1:1", "[fe80::1%]:1", "[fe80::1%no-such-interface]:1"}) {
    EXPECT_THROW(Address::parse(text), weft::ValueError) << text;
  }
}

TEST(Address, FromRawSockaddr) {
  sockaddr_in raw{};
  raw.sin_family = AF_INET;
  raw.sin_port = htons(9);
  raw.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const Address address(reinterpret_cast<const sockaddr*>(&raw), sizeof(raw));
  EXPECT_EQ(address, Address::ipv4("127.0.0.1", 9));
  EXPECT_EQ(std::memcmp(address.data(), &raw, sizeof(raw)), 0);
  char huge[sizeof(sockaddr_storage) + 1] = {};
  EXPECT_THROW(Address(reinterpret_cast<const sockaddr*>(huge), sizeof(huge)), weft::ValueError);
}

TEST(Address, EqualityAndHash) {
  const Address a = Address::ipv4("127.0.0.1", 1);
  EXPECT_EQ(a, Address::parse("127.0.0.1:1"));
  EXPECT_NE(a, Address::ipv4("127.0.0.1", 2));
  EXPECT_NE(a, Address::ipv4("127.0.0.2", 1));
  EXPECT_NE(a, Address::ipv6("::ffff:127.0.0.1", 1));
  EXPECT_NE(Address::unix_path("/a"), Address::unix_path(std::string("\0a", 2)));

  // The kernel may report a Unix path with trailing NULs in a longer sockaddr.
  sockaddr_un padded{};
  padded.sun_family = AF_UNIX;
  std::strcpy(padded.sun_path, "/a");
  const Address from_kernel(reinterpret_cast<const sockaddr*>(&padded), sizeof(padded));
  EXPECT_EQ(from_kernel, Address::unix_path("/a"));
  EXPECT_EQ(std::hash<Address>{}(from_kernel), std::hash<Address>{}(Address::unix_path("/a")));

  std::unordered_set<Address> set{a, Address::parse("127.0.0.1:1"), Address::parse("[::1]:1"),
                                  Address::unix_path("/a"), from_kernel};
  EXPECT_EQ(set.size(), 3u);
}

TEST(Getaddrinfo, NumericHostNeverResolves) {
  const auto infos =
      net::getaddrinfo("127.0.0.1", 8080, AF_UNSPEC, SOCK_DGRAM, 0, AI_NUMERICHOST | AI_CANONNAME);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].family, AF_INET);
  EXPECT_EQ(infos[0].type, SOCK_DGRAM);
  EXPECT_EQ(infos[0].proto, IPPROTO_UDP);
  EXPECT_EQ(infos[0].canonname, "127.0.0.1");
  EXPECT_EQ(infos[0].address, Address::ipv4("127.0.0.1", 8080));
}

TEST(Getaddrinfo, Ipv6AndServiceString) {
  const auto infos =
      net::getaddrinfo("::1", "443", AF_INET6, SOCK_STREAM, 0, AI_NUMERICHOST | AI_NUMERICSERV);
  ASSERT_EQ(infos.size(), 1u);
  EXPECT_EQ(infos[0].address.to_string(), "[::1]:443");
  EXPECT_EQ(infos[0].canonname, "");
}

TEST(Getaddrinfo, EmptyHostIsTheWildcardWhenPassive) {
  const auto infos = net::getaddrinfo("", 80, AF_INET, SOCK_STREAM, 0, AI_PASSIVE);
  ASSERT_FALSE(infos.empty());
  EXPECT_EQ(infos[0].address, Address::ipv4("0.0.0.0", 80));
}

TEST(Getaddrinfo, Localhost) {
  const auto infos = net::getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM);
  ASSERT_FALSE(infos.empty());
  for (const auto& info : infos) {
    EXPECT_EQ(info.family, AF_INET);
    EXPECT_EQ(info.address.port(), 80);
    EXPECT_EQ(info.address.host().rfind("127.", 0), 0u) << info.address.to_string();
  }
}

TEST(Getaddrinfo, FailureIsGaierror) {
  try {
    net::getaddrinfo("not-a-number", 80, AF_UNSPEC, 0, 0, AI_NUMERICHOST);
    ADD_FAILURE() << "no gaierror";
  } catch (const net::gaierror& e) {
    EXPECT_EQ(e.code().value(), EAI_NONAME);
    EXPECT_EQ(&e.code().category(), &net::gai_category());
    EXPECT_NE(std::string(e.what()).find("not-a-number"), std::string::npos) << e.what();
  }
  EXPECT_THROW(net::getaddrinfo("127.0.0.1", "not-a-port", AF_INET, SOCK_STREAM, 0,
                                AI_NUMERICHOST | AI_NUMERICSERV),
               net::gaierror);
}

TEST(Gethostname, MatchesTheKernel) {
  char expected[256] = {};
  ASSERT_EQ(::gethostname(expected, sizeof(expected) - 1), 0);
  EXPECT_EQ(net::gethostname(), expected);
  EXPECT_FALSE(net::gethostname().empty());
}

}  // namespace
