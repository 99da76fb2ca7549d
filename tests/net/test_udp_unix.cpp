// weft::net::Socket over UDP loopback and Unix sockets (paths, abstract names, autobind,
// datagrams), and passing descriptors with send_fds/recv_fds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <weft/net.hpp>

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "net/net_support.hpp"

namespace {

namespace net = weft::net;
using namespace weft::test;
using net::Address;
using net::Socket;

using Udp = NetTest;
using Unix = NetTest;

Socket udp_bound() {
  Socket sock(AF_INET, SOCK_DGRAM);
  sock.bind(Address::ipv4("127.0.0.1", 0));
  sock.settimeout(kPatience);
  return sock;
}

// A Unix stream listener whose backlog is full: a blocking connect() to it sleeps until accept()
// makes room, a non-blocking one fails with EAGAIN.
struct FullUnixListener {
  Socket listener{AF_UNIX, SOCK_STREAM};
  Address address = Address::unix_path(abstract_name());
  std::vector<Socket> queued;

  FullUnixListener() {
    listener.bind(address);
    listener.listen(0);
    for (int i = 0; i < 64; ++i) {
      Socket client(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK);
      if (client.connect_ex(address) != 0) return;
      queued.push_back(std::move(client));
    }
    throw std::runtime_error("the backlog never filled");
  }
};

// Installs a do-nothing handler for `signo` without SA_RESTART (as Python installs its handlers),
// so that the signal interrupts a blocking call; restores the previous one when it goes.
class InterruptingHandler {
 public:
  explicit InterruptingHandler(int signo) : signo_(signo) {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    ::sigaction(signo_, &action, &saved_);
  }
  ~InterruptingHandler() { ::sigaction(signo_, &saved_, nullptr); }
  InterruptingHandler(const InterruptingHandler&) = delete;
  InterruptingHandler& operator=(const InterruptingHandler&) = delete;

 private:
  int signo_;
  struct sigaction saved_ {};
};

TEST_F(Udp, SendtoAndRecvfrom) {
  Socket a = udp_bound();
  Socket b = udp_bound();
  EXPECT_EQ(a.sendto("ping", b.getsockname()), 4u);
  auto [data, sender] = b.recvfrom(64);
  EXPECT_EQ(data, "ping");
  EXPECT_EQ(sender, a.getsockname());
  b.sendto(std::string_view("pong"), sender);
  std::array<std::byte, 64> buffer{};
  auto [size, from] = a.recvfrom_into(buffer);
  EXPECT_EQ(size, 4u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer.data()), size), "pong");
  EXPECT_EQ(from, b.getsockname());
}

TEST_F(Udp, DatagramsKeepTheirBoundaries) {
  Socket a = udp_bound();
  Socket b = udp_bound();
  a.sendto("0123456789", b.getsockname());
  a.sendto("ab", b.getsockname());
  EXPECT_EQ(b.recv(4), "0123");  // the rest of the datagram is dropped
  EXPECT_EQ(b.recv(64), "ab");
  a.sendto("0123456789", b.getsockname());
  std::array<std::byte, 4> small{};
  EXPECT_EQ(b.recv_into(small, MSG_TRUNC), 10u);  // the datagram's real length
  a.sendto("0123456789", b.getsockname());
  EXPECT_EQ(b.recv(4, MSG_TRUNC), "0123");
}

TEST_F(Udp, ConnectedDatagramSocket) {
  Socket a = udp_bound();
  Socket b = udp_bound();
  a.connect(b.getsockname());
  EXPECT_EQ(a.getpeername(), b.getsockname());
  a.send("hi");
  EXPECT_EQ(b.recvfrom(8).first, "hi");
  b.sendto("yo", a.getsockname());
  EXPECT_EQ(a.recv(8), "yo");
}

TEST_F(Udp, EmptyQueueWouldBlockOrTimesOut) {
  Socket sock = udp_bound();
  sock.setblocking(false);
  EXPECT_THROW(sock.recvfrom(8), net::BlockingIOError);
  sock.settimeout(kTick);
  Stopwatch watch;
  EXPECT_THROW(sock.recvfrom(8), net::TimeoutError);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
}

TEST_F(Udp, TryForms) {
  Socket a = udp_bound();
  Socket b = udp_bound();
  b.settimeout(kTick);
  Stopwatch watch;
  EXPECT_EQ(b.try_recvfrom(8), std::nullopt);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  b.setblocking(false);
  std::array<std::byte, 8> buffer{};
  EXPECT_EQ(b.try_recvfrom_into(buffer), std::nullopt);
  EXPECT_EQ(a.try_sendto("ping", b.getsockname()), 4u);
  b.settimeout(kPatience);
  const auto got = b.try_recvfrom(8);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->first, "ping");
  EXPECT_EQ(got->second, a.getsockname());
}

TEST_F(Udp, EmptyDatagram) {
  Socket a = udp_bound();
  Socket b = udp_bound();
  EXPECT_EQ(a.sendto("", b.getsockname()), 0u);
  auto [data, sender] = b.recvfrom(8);
  EXPECT_EQ(data, "");
  EXPECT_EQ(sender, a.getsockname());
}

TEST_F(Unix, StreamOverAPath) {
  TempDir dir;
  const std::string path = dir / "server.sock";
  Socket listener = net::create_server(Address::unix_path(path));
  EXPECT_TRUE(std::filesystem::is_socket(path));
  EXPECT_EQ(listener.getsockname().path(), path);
  EXPECT_EQ(listener.getsockname().to_string(), "unix:" + path);
  EXPECT_NE(listener.getsockopt(SOL_SOCKET, SO_REUSEADDR), 0);

  Socket client = net::create_connection(Address::unix_path(path), kPatience);
  EXPECT_EQ(client.family(), AF_UNIX);
  listener.settimeout(kPatience);
  auto [server, peer] = listener.accept();
  EXPECT_EQ(peer.family(), AF_UNIX);
  EXPECT_EQ(peer.path(), "");  // the client never bound
  EXPECT_EQ(client.getpeername().path(), path);
  server.settimeout(kPatience);
  client.sendall("over unix");
  EXPECT_EQ(server.recv(64), "over unix");
}

TEST_F(Unix, BindErrorsAreTyped) {
  TempDir dir;
  Socket sock(AF_UNIX, SOCK_STREAM);
  EXPECT_THROW(sock.bind(Address::unix_path(dir / "missing/dir.sock")), net::FileNotFoundError);
  const std::string path = dir / "taken.sock";
  sock.bind(Address::unix_path(path));
  Socket other(AF_UNIX, SOCK_STREAM);
  try {
    other.bind(Address::unix_path(path));
    ADD_FAILURE() << "bound a path twice";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
  Socket nobody(AF_UNIX, SOCK_STREAM);
  EXPECT_THROW(nobody.connect(Address::unix_path(dir / "absent.sock")), net::FileNotFoundError);
  EXPECT_THROW(nobody.connect(Address::unix_path(path)), net::ConnectionRefusedError);
}

TEST_F(Unix, BlockingConnectInterruptedByASignalStillConnects) {
  InterruptingHandler handler(SIGUSR1);
  FullUnixListener full;
  full.listener.settimeout(kPatience);
  Socket client(AF_UNIX, SOCK_STREAM);
  SleepProbe probe;
  const pthread_t connecting = ::pthread_self();
  std::thread interrupter([&] {
    // The kernel drops the attempt that the signal interrupts; accepting a queued connection
    // then makes room for the one connect() makes again.
    if (probe.wait_asleep()) ::pthread_kill(connecting, SIGUSR1);
    try {
      full.listener.accept();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "accept: " << e.what();
    }
  });
  probe.arm();
  try {
    client.connect(full.address);
  } catch (const std::exception& e) {
    ADD_FAILURE() << "connect: " << e.what();
  }
  interrupter.join();
  try {
    EXPECT_EQ(client.getpeername(), full.address);
  } catch (const net::OSError& e) {
    ADD_FAILURE() << "connect() returned on an unconnected socket: " << e.what();
  }
}

TEST_F(Unix, ConnectToAFullBacklogWouldBlockEvenInTimeoutMode) {
  FullUnixListener full;
  Socket client(AF_UNIX, SOCK_STREAM);
  client.settimeout(kPatience);
  Stopwatch watch;
  EXPECT_THROW(client.connect(full.address), net::BlockingIOError);
  EXPECT_EQ(client.connect_ex(full.address), EAGAIN);
  EXPECT_LT(watch.elapsed(), kPatience / 2);
  client.setblocking(false);
  EXPECT_EQ(client.connect_ex(full.address), EAGAIN);
}

TEST_F(Unix, AbstractName) {
  const std::string name = abstract_name();
  Socket listener = net::create_server(Address::unix_path(name));
  EXPECT_EQ(listener.getsockname().path(), name);
  EXPECT_EQ(listener.getsockname().to_string(), "unix:@" + name.substr(1));
  Socket client = net::create_connection(Address::parse("unix:@" + name.substr(1)), kPatience);
  listener.settimeout(kPatience);
  auto [server, peer] = listener.accept();
  server.settimeout(kPatience);
  server.sendall("abstract");
  EXPECT_EQ(client.recv(64), "abstract");
}

TEST_F(Unix, AutobindPicksAnAbstractName) {
  Socket sock(AF_UNIX, SOCK_DGRAM);
  sock.bind(Address::unix_path(""));
  const std::string name = sock.getsockname().path();
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(name.front(), '\0');
}

TEST_F(Unix, DatagramsCarryTheSendersPath) {
  TempDir dir;
  Socket a(AF_UNIX, SOCK_DGRAM);
  Socket b(AF_UNIX, SOCK_DGRAM);
  a.bind(Address::unix_path(dir / "a"));
  b.bind(Address::unix_path(dir / "b"));
  b.settimeout(kPatience);
  a.sendto("note", Address::unix_path(dir / "b"));
  auto [data, sender] = b.recvfrom(64);
  EXPECT_EQ(data, "note");
  EXPECT_EQ(sender.path(), dir / "a");
  EXPECT_EQ(sender, Address::unix_path(dir / "a"));

  Socket unbound(AF_UNIX, SOCK_DGRAM);
  unbound.sendto("anon", Address::unix_path(dir / "b"));
  auto [anon, nameless] = b.recvfrom(64);
  EXPECT_EQ(anon, "anon");
  EXPECT_EQ(nameless.path(), "");  // Linux reports no address at all: Python's None
}

TEST_F(Unix, SendToAClosedPeerIsBrokenPipe) {
  auto [a, b] = net::socketpair();
  b.close();
  try {
    a.send("anyone?");
    ADD_FAILURE() << "sent to a closed peer";
  } catch (const net::BrokenPipeError& e) {
    EXPECT_EQ(e.code(), std::errc::broken_pipe);
  }
  EXPECT_THROW(a.sendall("anyone?"), net::BrokenPipeError);
  EXPECT_EQ(a.recv(8), "");
}

TEST_F(Unix, PassDescriptors) {
  auto [a, b] = net::socketpair();
  b.settimeout(kPatience);
  int pipe_fds[2];
  ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
  const std::array<int, 1> sent_fds{pipe_fds[1]};
  EXPECT_EQ(net::send_fds(a, "x", sent_fds), 1u);
  ::close(pipe_fds[1]);

  net::ReceivedFds got = net::recv_fds(b, 16, 4);
  EXPECT_EQ(got.data, "x");
  ASSERT_EQ(got.fds.size(), 1u);
  EXPECT_EQ(got.msg_flags & MSG_CTRUNC, 0);
  EXPECT_NE(::fcntl(got.fds[0], F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(got.fds[0], "via fd", 6), 6);
  ::close(got.fds[0]);
  char buffer[16] = {};
  EXPECT_EQ(::read(pipe_fds[0], buffer, sizeof(buffer)), 6);
  EXPECT_STREQ(buffer, "via fd");
  ::close(pipe_fds[0]);
}

TEST_F(Unix, PassDescriptorsBeyondMaxfdsTruncates) {
  auto [a, b] = net::socketpair();
  b.settimeout(kPatience);
  Socket one(AF_INET, SOCK_DGRAM);
  Socket two(AF_INET, SOCK_DGRAM);
  Socket three(AF_INET, SOCK_DGRAM);
  for (const std::size_t sent : {2u, 3u}) {
    const std::array<int, 3> fds{one.fileno(), two.fileno(), three.fileno()};
    net::send_fds(a, std::as_bytes(std::span("yz", 2)), std::span(fds.data(), sent));
    net::ReceivedFds got = net::recv_fds(b, 16, 1);
    EXPECT_EQ(got.data, "yz");
    ASSERT_EQ(got.fds.size(), 1u);
    EXPECT_NE(got.msg_flags & MSG_CTRUNC, 0);
    EXPECT_EQ(Socket::from_fd(got.fds[0]).getsockname(), one.getsockname());
  }
}

TEST_F(Unix, DataWithoutDescriptors) {
  auto [a, b] = net::socketpair();
  b.settimeout(kPatience);
  net::send_fds(a, "plain", {});
  net::ReceivedFds got = net::recv_fds(b, 16, 2);
  EXPECT_EQ(got.data, "plain");
  EXPECT_TRUE(got.fds.empty());
}

TEST_F(Unix, ReceiveDescriptorsWithMsgTruncKeepsOnlyTheBytesReceived) {
  auto [a, b] = net::socketpair(AF_UNIX, SOCK_DGRAM);
  b.settimeout(kPatience);
  net::send_fds(a, "0123456789", {});
  net::ReceivedFds got = net::recv_fds(b, 4, 1, MSG_TRUNC);
  EXPECT_EQ(got.data, "0123");
  EXPECT_NE(got.msg_flags & MSG_TRUNC, 0);
}

}  // namespace
