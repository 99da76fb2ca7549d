// weft::net::Socket as an object: creation, the three modes, close/detach/move, adoption, options,
// inheritability, duplicates; every call on a closed socket failing with EBADF.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <unistd.h>
#include <weft/errors.hpp>
#include <weft/net.hpp>

#include <cstring>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "net/net_support.hpp"

namespace {

namespace net = weft::net;
using namespace weft::test;
using net::Address;
using net::Socket;

using SocketObject = NetTest;

TEST_F(SocketObject, DefaultIsABlockingTcpSocket) {
  Socket sock;
  EXPECT_GE(sock.fileno(), 0);
  EXPECT_EQ(sock.family(), AF_INET);
  EXPECT_EQ(sock.type(), SOCK_STREAM);
  EXPECT_EQ(sock.proto(), 0);
  EXPECT_EQ(sock.gettimeout(), std::nullopt);
  EXPECT_TRUE(sock.getblocking());
  EXPECT_FALSE(is_nonblocking(sock.fileno()));
  EXPECT_FALSE(sock.get_inheritable());
  EXPECT_NE(::fcntl(sock.fileno(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(SocketObject, ModesFollowCPython) {
  Socket sock(AF_INET, SOCK_DGRAM);
  sock.settimeout(0s);
  EXPECT_EQ(sock.gettimeout(), 0ns);
  EXPECT_FALSE(sock.getblocking());
  EXPECT_TRUE(is_nonblocking(sock.fileno()));

  sock.settimeout(std::chrono::duration<double>(1.5));
  EXPECT_EQ(sock.gettimeout(), 1500ms);
  EXPECT_TRUE(sock.getblocking());
  EXPECT_TRUE(is_nonblocking(sock.fileno()));

  sock.setblocking(true);
  EXPECT_EQ(sock.gettimeout(), std::nullopt);
  EXPECT_TRUE(sock.getblocking());
  EXPECT_FALSE(is_nonblocking(sock.fileno()));

  sock.setblocking(false);
  EXPECT_EQ(sock.gettimeout(), 0ns);
  EXPECT_TRUE(is_nonblocking(sock.fileno()));

  sock.settimeout(std::nullopt);
  EXPECT_EQ(sock.gettimeout(), std::nullopt);
  EXPECT_FALSE(is_nonblocking(sock.fileno()));

  sock.settimeout(std::chrono::hours::max());
  EXPECT_EQ(sock.gettimeout(), std::chrono::nanoseconds::max());
}

TEST_F(SocketObject, NegativeTimeoutIsValueErrorAndKeepsTheMode) {
  Socket sock(AF_INET, SOCK_DGRAM);
  sock.settimeout(kTick);
  EXPECT_THROW(sock.settimeout(-1ms), weft::ValueError);
  EXPECT_THROW(sock.settimeout(std::optional<std::chrono::nanoseconds>(-1ns)), weft::ValueError);
  EXPECT_EQ(sock.gettimeout(), kTick);
}

TEST_F(SocketObject, NanTimeoutIsValueErrorAndKeepsTheMode) {
  DefaultTimeoutGuard guard;
  const auto before = net::getdefaulttimeout();
  Socket sock(AF_INET, SOCK_DGRAM);
  sock.settimeout(kTick);
  const std::chrono::duration<double> nan(std::numeric_limits<double>::quiet_NaN());
  try {
    sock.settimeout(nan);
    ADD_FAILURE() << "settimeout(NaN) accepted";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "Invalid value NaN (not a number)");
  }
  try {
    net::setdefaulttimeout(nan);
    ADD_FAILURE() << "setdefaulttimeout(NaN) accepted";
  } catch (const weft::ValueError& e) {
    EXPECT_STREQ(e.what(), "Invalid value NaN (not a number)");
  }
  EXPECT_EQ(sock.gettimeout(), kTick);
  EXPECT_EQ(net::getdefaulttimeout(), before);
}

TEST_F(SocketObject, SockNonblockInTypeMeansNonBlockingMode) {
  Socket sock(AF_INET, SOCK_STREAM | SOCK_NONBLOCK);
  EXPECT_EQ(sock.type(), SOCK_STREAM);
  EXPECT_EQ(sock.gettimeout(), 0ns);
  EXPECT_TRUE(is_nonblocking(sock.fileno()));
}

TEST_F(SocketObject, UnsupportedFamilyThrowsOSError) {
  try {
    Socket sock(12345, SOCK_STREAM);
    ADD_FAILURE() << "made a socket of family 12345";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::address_family_not_supported);
  }
}

TEST_F(SocketObject, NewSocketsTakeTheDefaultTimeout) {
  DefaultTimeoutGuard guard;
  EXPECT_EQ(net::getdefaulttimeout(), std::nullopt);
  net::setdefaulttimeout(kTick);
  EXPECT_EQ(net::getdefaulttimeout(), kTick);

  Socket sock;
  EXPECT_EQ(sock.gettimeout(), kTick);
  EXPECT_TRUE(is_nonblocking(sock.fileno()));
  auto [a, b] = net::socketpair();
  EXPECT_EQ(a.gettimeout(), kTick);
  EXPECT_TRUE(is_nonblocking(b.fileno()));

  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kPatience);
  Socket client = net::create_connection(listener.getsockname());
  auto [accepted, peer] = listener.accept();
  EXPECT_EQ(accepted.gettimeout(), kTick);
  EXPECT_TRUE(is_nonblocking(accepted.fileno()));

  EXPECT_THROW(net::setdefaulttimeout(-1s), weft::ValueError);
  net::setdefaulttimeout(std::nullopt);
  EXPECT_EQ(Socket().gettimeout(), std::nullopt);
}

TEST_F(SocketObject, AcceptedSocketDoesNotInheritTheListenersTimeout) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kPatience);
  Socket client = net::create_connection(listener.getsockname());
  auto [accepted, peer] = listener.accept();
  EXPECT_EQ(accepted.gettimeout(), std::nullopt);
  EXPECT_FALSE(is_nonblocking(accepted.fileno()));
  EXPECT_FALSE(accepted.get_inheritable());
  EXPECT_EQ(accepted.family(), AF_INET);
  EXPECT_EQ(accepted.type(), SOCK_STREAM);
}

TEST_F(SocketObject, CloseIsIdempotent) {
  Socket sock;
  const int fd = sock.fileno();
  sock.close();
  EXPECT_EQ(sock.fileno(), -1);
  EXPECT_FALSE(is_open(fd));
  EXPECT_NO_THROW(sock.close());
  EXPECT_EQ(sock.fileno(), -1);
  EXPECT_EQ(sock.family(), AF_INET);
}

void expect_ebadf(const char* name, const std::function<void()>& call) {
  try {
    call();
    ADD_FAILURE() << name << " succeeded on a closed socket";
  } catch (const net::OSError& e) {
    EXPECT_EQ(typeid(e), typeid(net::OSError)) << name;
    EXPECT_EQ(e.code(), std::errc::bad_file_descriptor) << name << ": " << e.what();
  }
}

TEST_F(SocketObject, EveryCallOnAClosedSocketFailsWithEbadf) {
  Socket sock;
  sock.close();
  std::byte buffer[8];
  const Address somewhere = Address::ipv4("127.0.0.1", 9);
  expect_ebadf("bind", [&] { sock.bind(somewhere); });
  expect_ebadf("listen", [&] { sock.listen(); });
  expect_ebadf("accept", [&] { sock.accept(); });
  expect_ebadf("connect", [&] { sock.connect(somewhere); });
  expect_ebadf("send", [&] { sock.send("x"); });
  expect_ebadf("sendall", [&] { sock.sendall("x"); });
  expect_ebadf("sendto", [&] { sock.sendto("x", somewhere); });
  expect_ebadf("recv", [&] { sock.recv(8); });
  expect_ebadf("recv_into", [&] { sock.recv_into(buffer); });
  expect_ebadf("recvfrom", [&] { sock.recvfrom(8); });
  expect_ebadf("recvfrom_into", [&] { sock.recvfrom_into(buffer); });
  expect_ebadf("shutdown", [&] { sock.shutdown(SHUT_RDWR); });
  expect_ebadf("settimeout", [&] { sock.settimeout(kTick); });
  expect_ebadf("setblocking", [&] { sock.setblocking(false); });
  expect_ebadf("setsockopt", [&] { sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1); });
  expect_ebadf("getsockopt", [&] { sock.getsockopt(SOL_SOCKET, SO_TYPE); });
  expect_ebadf("getsockname", [&] { sock.getsockname(); });
  expect_ebadf("getpeername", [&] { sock.getpeername(); });
  expect_ebadf("dup", [&] { sock.dup(); });
  expect_ebadf("get_inheritable", [&] { sock.get_inheritable(); });
  expect_ebadf("set_inheritable", [&] { sock.set_inheritable(true); });
  EXPECT_EQ(sock.connect_ex(somewhere), EBADF);
  EXPECT_EQ(sock.detach(), -1);
}

TEST_F(SocketObject, CallsOnAClosedTimeoutModeSocketFailWithEbadfToo) {
  Socket sock;
  sock.settimeout(kPatience);
  sock.close();
  expect_ebadf("recv", [&] { sock.recv(8); });
  expect_ebadf("accept", [&] { sock.accept(); });
  expect_ebadf("connect", [&] { sock.connect(Address::ipv4("127.0.0.1", 9)); });
}

TEST_F(SocketObject, DetachGivesUpTheDescriptor) {
  const int fd = [] {
    Socket sock;
    const int detached = sock.detach();
    EXPECT_EQ(sock.fileno(), -1);
    EXPECT_EQ(sock.detach(), -1);
    return detached;
  }();
  EXPECT_TRUE(is_open(fd));
  ::close(fd);
}

TEST_F(SocketObject, MoveTransfersOwnership) {
  Socket a;
  const int fd = a.fileno();
  Socket b(std::move(a));
  EXPECT_EQ(a.fileno(), -1);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(b.fileno(), fd);
  EXPECT_THROW(a.recv(1), net::OSError);  // NOLINT(bugprone-use-after-move)

  Socket c(AF_INET, SOCK_DGRAM);
  const int replaced = c.fileno();
  const int before = open_fds();
  c = std::move(b);
  EXPECT_EQ(open_fds(), before - 1);
  EXPECT_FALSE(is_open(replaced));
  EXPECT_EQ(c.fileno(), fd);
  EXPECT_EQ(c.type(), SOCK_STREAM);
  EXPECT_EQ(b.fileno(), -1);  // NOLINT(bugprone-use-after-move)

  std::vector<Socket> sockets;
  sockets.push_back(std::move(c));
  sockets.emplace_back(AF_INET6, SOCK_DGRAM);
  EXPECT_EQ(sockets[0].fileno(), fd);
}

TEST_F(SocketObject, FromFdAdoptsAndReadsTheKind) {
  const int raw = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(raw, 0);
  Socket sock = Socket::from_fd(raw);
  EXPECT_EQ(sock.fileno(), raw);
  EXPECT_EQ(sock.family(), AF_INET);
  EXPECT_EQ(sock.type(), SOCK_DGRAM);
  EXPECT_EQ(sock.proto(), IPPROTO_UDP);
  EXPECT_EQ(sock.gettimeout(), std::nullopt);

  const int nonblocking = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  ASSERT_GE(nonblocking, 0);
  Socket adopted = Socket::from_fd(nonblocking);
  EXPECT_EQ(adopted.family(), AF_UNIX);
  EXPECT_EQ(adopted.gettimeout(), 0ns);
}

TEST_F(SocketObject, FromFdRefusesWhatIsNotASocket) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  try {
    Socket::from_fd(pipe_fds[0]);
    ADD_FAILURE() << "adopted a pipe";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::not_a_socket);
  }
  EXPECT_TRUE(is_open(pipe_fds[0]));
  ::close(pipe_fds[0]);
  ::close(pipe_fds[1]);
}

TEST_F(SocketObject, IntAndByteOptions) {
  Socket sock;
  sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  EXPECT_NE(sock.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 0);
  EXPECT_EQ(sock.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);
  EXPECT_EQ(sock.getsockopt(SOL_SOCKET, SO_TYPE), SOCK_STREAM);

  const linger wanted{1, 7};
  sock.setsockopt(SOL_SOCKET, SO_LINGER, std::as_bytes(std::span(&wanted, 1)));
  const std::string raw = sock.getsockopt(SOL_SOCKET, SO_LINGER, sizeof(linger));
  ASSERT_EQ(raw.size(), sizeof(linger));
  linger got{};
  std::memcpy(&got, raw.data(), sizeof(got));
  EXPECT_EQ(got.l_onoff, 1);
  EXPECT_EQ(got.l_linger, 7);

  try {
    sock.setsockopt(SOL_SOCKET, 0x7fff, 1);
    ADD_FAILURE() << "set an unknown option";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::no_protocol_option);
  }
}

TEST_F(SocketObject, Inheritable) {
  Socket sock;
  sock.set_inheritable(true);
  EXPECT_TRUE(sock.get_inheritable());
  EXPECT_EQ(::fcntl(sock.fileno(), F_GETFD) & FD_CLOEXEC, 0);
  sock.set_inheritable(false);
  EXPECT_FALSE(sock.get_inheritable());
}

TEST_F(SocketObject, DupSharesTheSocket) {
  Socket sock(AF_INET, SOCK_DGRAM);
  sock.bind(Address::ipv4("127.0.0.1", 0));
  sock.settimeout(kTick);
  Socket copy = sock.dup();
  EXPECT_NE(copy.fileno(), sock.fileno());
  EXPECT_EQ(copy.getsockname(), sock.getsockname());
  EXPECT_EQ(copy.gettimeout(), kTick);
  EXPECT_EQ(copy.type(), SOCK_DGRAM);
  EXPECT_FALSE(copy.get_inheritable());
  sock.close();
  copy.sendto("ping", copy.getsockname());
  EXPECT_EQ(copy.recv(16), "ping");
}

TEST_F(SocketObject, SocketpairIsConnected) {
  auto [a, b] = net::socketpair();
  EXPECT_EQ(a.family(), AF_UNIX);
  EXPECT_EQ(b.type(), SOCK_STREAM);
  b.settimeout(kPatience);
  a.settimeout(kPatience);
  EXPECT_EQ(a.send("hello"), 5u);
  EXPECT_EQ(b.recv(16), "hello");
  b.sendall(std::string_view("back"));
  EXPECT_EQ(a.recv(16), "back");

  auto [x, y] = net::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK);
  EXPECT_EQ(x.type(), SOCK_DGRAM);
  EXPECT_EQ(y.gettimeout(), 0ns);
}

}  // namespace
