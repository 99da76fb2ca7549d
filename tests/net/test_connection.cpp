// weft::net::create_connection and create_server: options set as Python sets them, resolution and
// fallback, errors, IPv6 and dual-stack when the machine has them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <weft/errors.hpp>
#include <weft/net.hpp>

#include <string>

#include "net/net_support.hpp"

namespace {

namespace net = weft::net;
using namespace weft::test;
using net::Address;
using net::Socket;

using Connection = NetTest;

// Whether ::1 can be bound here.
bool have_ipv6_loopback() {
  try {
    Socket probe(AF_INET6, SOCK_STREAM);
    probe.bind(Address::ipv6("::1", 0));
    return true;
  } catch (const net::OSError&) {
    return false;
  }
}

TEST_F(Connection, CreateServerListensWithReuseaddr) {
  Socket server = net::create_server(Address::ipv4("127.0.0.1", 0));
  EXPECT_NE(server.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  EXPECT_EQ(server.getsockopt(SOL_SOCKET, SO_ACCEPTCONN), 1);
  EXPECT_EQ(server.gettimeout(), std::nullopt);
  EXPECT_FALSE(server.get_inheritable());
}

TEST_F(Connection, CreateServerReusePort) {
  Socket first = net::create_server(Address::ipv4("127.0.0.1", 0), 16, true);
  EXPECT_NE(first.getsockopt(SOL_SOCKET, SO_REUSEPORT), 0);
  Socket second = net::create_server(first.getsockname(), 16, true);
  EXPECT_EQ(second.getsockname(), first.getsockname());
}

TEST_F(Connection, CreateServerOnAPortInUseNamesTheAddress) {
  Socket first = net::create_server(Address::ipv4("127.0.0.1", 0));
  const Address taken = first.getsockname();
  try {
    net::create_server(taken);
    ADD_FAILURE() << "two servers on one port";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
    EXPECT_NE(std::string(e.what()).find("bind " + taken.to_string()), std::string::npos)
        << e.what();
  }
}

TEST_F(Connection, CreateConnectionByHostAndPort) {
  Socket server = net::create_server(Address::ipv4("127.0.0.1", 0));
  Socket client = net::create_connection("127.0.0.1", server.getsockname().port(), kPatience);
  EXPECT_EQ(client.gettimeout(), kPatience);
  EXPECT_EQ(client.getpeername(), server.getsockname());
  EXPECT_EQ(client.family(), AF_INET);
  EXPECT_EQ(client.type(), SOCK_STREAM);
}

TEST_F(Connection, CreateConnectionKeepsTheDefaultTimeoutWithoutOne) {
  Socket server = net::create_server(Address::ipv4("127.0.0.1", 0));
  EXPECT_EQ(net::create_connection(server.getsockname()).gettimeout(), std::nullopt);
  DefaultTimeoutGuard guard;
  net::setdefaulttimeout(kPatience);
  EXPECT_EQ(net::create_connection(server.getsockname()).gettimeout(), kPatience);
}

TEST_F(Connection, CreateConnectionFromASourceAddress) {
  Socket server = net::create_server(Address::ipv4("127.0.0.1", 0));
  Socket holder(AF_INET, SOCK_STREAM);
  holder.bind(Address::ipv4("127.0.0.1", 0));
  const Address source = holder.getsockname();
  holder.close();
  Socket client = net::create_connection(server.getsockname(), kPatience, source);
  EXPECT_EQ(client.getsockname(), source);
}

TEST_F(Connection, CreateConnectionRefused) {
  RefusingPort refusing;
  EXPECT_THROW(net::create_connection(refusing.address, kPatience), net::ConnectionRefusedError);
  EXPECT_THROW(net::create_connection("127.0.0.1", refusing.address.port(), kPatience),
               net::ConnectionRefusedError);
}

TEST_F(Connection, CreateConnectionRejectsANegativeTimeout) {
  EXPECT_THROW(net::create_connection("127.0.0.1", 9, -1s), weft::ValueError);
  EXPECT_THROW(net::create_connection(Address::ipv4("127.0.0.1", 9), -1s), weft::ValueError);
}

TEST_F(Connection, DualstackNeedsIpv6) {
  EXPECT_THROW(net::create_server(Address::ipv4("127.0.0.1", 0), 16, false, true),
               weft::ValueError);
}

TEST_F(Connection, Ipv6Loopback) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "::1 cannot be bound here";
  Socket server = net::create_server(Address::ipv6("::1", 0));
  EXPECT_EQ(server.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 1);
  const Address where = server.getsockname();
  EXPECT_EQ(where.to_string(), "[::1]:" + std::to_string(where.port()));
  Socket client = net::create_connection("::1", where.port(), kPatience);
  EXPECT_EQ(client.family(), AF_INET6);
  server.settimeout(kPatience);
  auto [conn, peer] = server.accept();
  EXPECT_EQ(peer.host(), "::1");
  EXPECT_EQ(peer, client.getsockname());
  conn.settimeout(kPatience);
  client.sendall("six");
  EXPECT_EQ(conn.recv(8), "six");
}

TEST_F(Connection, Ipv6Udp) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "::1 cannot be bound here";
  Socket a(AF_INET6, SOCK_DGRAM);
  Socket b(AF_INET6, SOCK_DGRAM);
  a.bind(Address::ipv6("::1", 0));
  b.bind(Address::ipv6("::1", 0));
  b.settimeout(kPatience);
  a.sendto("v6", b.getsockname());
  auto [data, sender] = b.recvfrom(8);
  EXPECT_EQ(data, "v6");
  EXPECT_EQ(sender, a.getsockname());
}

TEST_F(Connection, DualstackServerAcceptsIpv4) {
  if (!net::has_dualstack_ipv6() || !have_ipv6_loopback())
    GTEST_SKIP() << "no dual-stack IPv6 here";
  Socket server = net::create_server(Address::ipv6("", 0), 16, false, true);
  EXPECT_EQ(server.getsockopt(IPPROTO_IPV6, IPV6_V6ONLY), 0);
  Socket client = net::create_connection("127.0.0.1", server.getsockname().port(), kPatience);
  server.settimeout(kPatience);
  auto [conn, peer] = server.accept();
  EXPECT_EQ(peer.family(), AF_INET6);
  EXPECT_EQ(peer.host(), "::ffff:127.0.0.1");
}

}  // namespace
