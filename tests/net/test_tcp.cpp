// weft::net::Socket over TCP loopback: connecting, accepting, data both ways, and every way a
// connection fails — refused, reset, broken pipe, half-closed, timed out, would block.
#include <gtest/gtest.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <weft/net.hpp>

#include <atomic>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "net/net_support.hpp"

namespace {

namespace net = weft::net;
using namespace weft::test;
using net::Address;
using net::Socket;

using Tcp = NetTest;

// A pattern of `size` bytes that shows any reordering or loss.
std::vector<std::byte> pattern(std::size_t size) {
  std::vector<std::byte> data(size);
  for (std::size_t i = 0; i < size; ++i)
    data[i] = static_cast<std::byte>((i * 131 + i / 251) & 0xff);
  return data;
}

// Reads until end of stream.
std::vector<std::byte> read_all(Socket& sock) {
  std::vector<std::byte> data;
  std::vector<std::byte> chunk(64 * 1024);
  while (const std::size_t n = sock.recv_into(chunk))
    data.insert(data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
  return data;
}

TEST_F(Tcp, EchoServerAndClient) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kPatience);
  std::jthread server([&] {
    auto [conn, peer] = listener.accept();
    conn.settimeout(kPatience);
    std::byte buffer[1024];
    while (const std::size_t n = conn.recv_into(buffer)) conn.sendall(std::span(buffer, n));
  });
  Socket client = net::create_connection(listener.getsockname(), kPatience);
  client.sendall("hello, weft");
  std::string echoed;
  while (echoed.size() < 11) echoed += client.recv(64);
  EXPECT_EQ(echoed, "hello, weft");
  client.shutdown(SHUT_WR);
  EXPECT_EQ(client.recv(64), "");
}

TEST_F(Tcp, AddressesOfBothEnds) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  const Address where = listener.getsockname();
  EXPECT_EQ(where.host(), "127.0.0.1");
  EXPECT_NE(where.port(), 0);
  Socket client = net::create_connection(where, kPatience);
  listener.settimeout(kPatience);
  auto [server, peer] = listener.accept();
  EXPECT_EQ(peer, client.getsockname());
  EXPECT_EQ(server.getpeername(), client.getsockname());
  EXPECT_EQ(client.getpeername(), where);
  EXPECT_EQ(server.getsockname(), where);
  try {
    listener.getpeername();
    ADD_FAILURE() << "a listener has a peer";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::not_connected);
  }
}

TEST_F(Tcp, RefusedConnect) {
  RefusingPort refusing;
  Socket sock;
  try {
    sock.connect(refusing.address);
    ADD_FAILURE() << "connected to a port nobody listens on";
  } catch (const net::ConnectionRefusedError& e) {
    EXPECT_EQ(e.code(), std::errc::connection_refused);
    EXPECT_EQ(std::string(e.what()),
              "[Errno " + std::to_string(ECONNREFUSED) + "] Connection refused: connect");
  }
  EXPECT_EQ(Socket().connect_ex(refusing.address), ECONNREFUSED);
  Socket timed;
  timed.settimeout(kPatience);
  EXPECT_THROW(timed.connect(refusing.address), net::ConnectionRefusedError);
  Socket timed_ex;
  timed_ex.settimeout(kPatience);
  EXPECT_EQ(timed_ex.connect_ex(refusing.address), ECONNREFUSED);
}

TEST_F(Tcp, ConnectExSucceeds) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  Socket sock;
  EXPECT_EQ(sock.connect_ex(listener.getsockname()), 0);
  Socket timed;
  timed.settimeout(kPatience);
  EXPECT_EQ(timed.connect_ex(listener.getsockname()), 0);
  EXPECT_EQ(timed.getpeername(), listener.getsockname());
}

TEST_F(Tcp, NonBlockingConnectCompletesInTheBackground) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  Socket sock;
  sock.setblocking(false);
  const int started = sock.connect_ex(listener.getsockname());
  ASSERT_TRUE(started == 0 || started == EINPROGRESS) << started;
  pollfd writable{sock.fileno(), POLLOUT, 0};
  ASSERT_EQ(::poll(&writable, 1, static_cast<int>(kPatience / 1ms)), 1);
  EXPECT_EQ(sock.getsockopt(SOL_SOCKET, SO_ERROR), 0);
  EXPECT_EQ(sock.getpeername(), listener.getsockname());
}

TEST_F(Tcp, NonBlockingCallsThatWouldBlockThrowBlockingIOError) {
  TcpPair pair = tcp_pair();
  pair.server.setblocking(false);
  try {
    pair.server.recv(16);
    ADD_FAILURE() << "recv on an empty socket returned";
  } catch (const net::BlockingIOError& e) {
    EXPECT_EQ(e.code(), std::errc::resource_unavailable_try_again);
  }
  std::byte buffer[16];
  EXPECT_THROW(pair.server.recv_into(buffer), net::BlockingIOError);
  EXPECT_THROW(pair.server.recvfrom(16), net::BlockingIOError);

  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.setblocking(false);
  EXPECT_THROW(listener.accept(), net::BlockingIOError);

  // Once data is there, the same calls return it at once.
  pair.client.sendall("ready");
  pair.server.settimeout(kPatience);
  pollfd readable{pair.server.fileno(), POLLIN, 0};
  ASSERT_EQ(::poll(&readable, 1, static_cast<int>(kPatience / 1ms)), 1);
  pair.server.setblocking(false);
  EXPECT_EQ(pair.server.recv(16), "ready");
}

TEST_F(Tcp, NonBlockingSendFillsUpAndThrows) {
  TcpPair pair = tcp_pair();
  pair.client.setblocking(false);
  const std::vector<std::byte> chunk(256 * 1024);
  std::size_t sent = 0;
  EXPECT_THROW(
      {
        for (int i = 0; i < 100000; ++i) sent += pair.client.send(chunk);
      },
      net::BlockingIOError);
  EXPECT_GT(sent, 0u);
}

TEST_F(Tcp, TryFormsReturnNothingWhereNonBlockingCallsThrow) {
  TcpPair pair = tcp_pair();
  pair.server.setblocking(false);
  std::byte buffer[16];
  EXPECT_EQ(pair.server.try_recv(16), std::nullopt);
  EXPECT_EQ(pair.server.try_recv_into(buffer), std::nullopt);
  EXPECT_EQ(pair.server.try_recvfrom(16), std::nullopt);
  EXPECT_EQ(pair.server.try_recvfrom_into(buffer), std::nullopt);
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.setblocking(false);
  EXPECT_FALSE(listener.try_accept().has_value());

  pair.client.setblocking(false);
  const std::vector<std::byte> chunk(256 * 1024);
  bool full = false;
  for (int i = 0; i < 100000 && !full; ++i) full = !pair.client.try_send(chunk).has_value();
  EXPECT_TRUE(full);
  EXPECT_EQ(pair.client.try_send("x"), std::nullopt);
}

TEST_F(Tcp, TryFormsReturnWhatArrivesAndStillThrowOtherErrors) {
  TcpPair pair = tcp_pair();
  EXPECT_EQ(pair.client.try_send("data"), 4u);
  EXPECT_EQ(pair.server.try_recv(16), "data");
  pair.client.shutdown(SHUT_WR);
  EXPECT_EQ(pair.server.try_recv(16), "");  // end of stream is a value, not "nothing yet"

  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kPatience);
  Socket client = net::create_connection(listener.getsockname(), kPatience);
  auto accepted = listener.try_accept();
  ASSERT_TRUE(accepted.has_value());
  EXPECT_EQ(accepted->second, client.getsockname());

  pair.server.close();
  EXPECT_THROW(pair.server.try_recv(16), net::OSError);
  auto [a, b] = net::socketpair();
  b.close();
  EXPECT_THROW(a.try_send("x"), net::BrokenPipeError);
}

TEST_F(Tcp, TryFormsInTimeoutModeWaitThenReturnNothing) {
  TcpPair pair = tcp_pair();
  pair.server.settimeout(kTick);
  Stopwatch watch;
  EXPECT_EQ(pair.server.try_recv(16), std::nullopt);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kTick);
  Stopwatch accept_watch;
  EXPECT_FALSE(listener.try_accept().has_value());
  EXPECT_TRUE(expired_after(accept_watch.elapsed(), kTick));
}

TEST_F(Tcp, TimeoutModeRecvExpires) {
  TcpPair pair = tcp_pair();
  pair.server.settimeout(kTick);
  Stopwatch watch;
  try {
    pair.server.recv(16);
    ADD_FAILURE() << "recv on an empty socket returned";
  } catch (const net::TimeoutError& e) {
    EXPECT_STREQ(e.what(), "timed out");
  }
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
}

TEST_F(Tcp, TimeoutIsPerCall) {
  TcpPair pair = tcp_pair();
  pair.server.settimeout(kTick);
  for (int i = 0; i < 2; ++i) {
    Stopwatch watch;
    EXPECT_THROW(pair.server.recv(16), net::TimeoutError);
    EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  }
}

TEST_F(Tcp, TimeoutModeAcceptExpires) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kTick);
  Stopwatch watch;
  EXPECT_THROW(listener.accept(), net::TimeoutError);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
}

TEST_F(Tcp, TimeoutModeWakesWhenDataArrives) {
  TcpPair pair = tcp_pair();
  SleepProbe probe;
  std::jthread reader([&] {
    probe.arm();
    EXPECT_EQ(pair.server.recv(16), "late");
  });
  ASSERT_TRUE(probe.wait_asleep());
  pair.client.sendall("late");
}

TEST_F(Tcp, TimeoutModeAcceptWakesForAConnection) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  listener.settimeout(kPatience);
  SleepProbe probe;
  Address accepted_peer;
  std::jthread acceptor([&] {
    probe.arm();
    accepted_peer = listener.accept().second;
  });
  ASSERT_TRUE(probe.wait_asleep());
  Socket client = net::create_connection(listener.getsockname(), kPatience);
  acceptor.join();
  EXPECT_EQ(accepted_peer, client.getsockname());
}

TEST_F(Tcp, BlockingRecvWakesWhenDataArrives) {
  TcpPair pair = tcp_pair();
  pair.server.setblocking(true);
  SleepProbe probe;
  std::jthread reader([&] {
    probe.arm();
    EXPECT_EQ(pair.server.recv(16), "late");
  });
  ASSERT_TRUE(probe.wait_asleep());
  pair.client.sendall("late");
}

std::atomic<int> signals_caught{0};

// Installs a SIGUSR1 handler without SA_RESTART, so that a signal makes a blocked syscall fail
// with EINTR; restores the old one afterwards.
class InterruptingSignal {
 public:
  InterruptingSignal() {
    struct sigaction action {};
    action.sa_handler = [](int) { signals_caught.fetch_add(1); };
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    ::sigaction(SIGUSR1, &action, &saved_);
  }
  ~InterruptingSignal() { ::sigaction(SIGUSR1, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

// A reader parked in recv() is hit by a signal, parks again, and still gets its data.
void expect_recv_survives_a_signal(Socket& reading, Socket& writing) {
  InterruptingSignal interrupting;
  SleepProbe probe;
  std::atomic<pthread_t> reader_thread{};
  std::jthread reader([&] {
    reader_thread.store(::pthread_self());
    probe.arm();
    try {
      EXPECT_EQ(reading.recv(16), "after signal");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "recv threw: " << e.what();
    }
  });
  ASSERT_TRUE(probe.wait_asleep());
  const int before = signals_caught.load();
  ::pthread_kill(reader_thread.load(), SIGUSR1);
  ASSERT_TRUE(eventually([&] { return signals_caught.load() > before; }));
  ASSERT_TRUE(probe.wait_asleep());
  writing.sendall("after signal");
}

TEST_F(Tcp, BlockingRecvRetriesAfterASignal) {
  TcpPair pair = tcp_pair();
  pair.server.setblocking(true);
  expect_recv_survives_a_signal(pair.server, pair.client);
}

TEST_F(Tcp, TimeoutModeRecvRetriesAfterASignal) {
  TcpPair pair = tcp_pair();
  expect_recv_survives_a_signal(pair.server, pair.client);
}

TEST_F(Tcp, SendallDeliversEverything) {
  TcpPair pair = tcp_pair();
  const std::vector<std::byte> data = pattern(8 * 1024 * 1024 + 17);
  std::vector<std::byte> received;
  std::jthread reader([&] { received = read_all(pair.server); });
  pair.client.sendall(data);
  pair.client.shutdown(SHUT_WR);
  reader.join();
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

TEST_F(Tcp, SendallInBlockingModeDeliversEverything) {
  TcpPair pair = tcp_pair();
  pair.client.setblocking(true);
  const std::vector<std::byte> data = pattern(4 * 1024 * 1024);
  std::vector<std::byte> received;
  std::jthread reader([&] { received = read_all(pair.server); });
  pair.client.sendall(data);
  pair.client.shutdown(SHUT_WR);
  reader.join();
  EXPECT_TRUE(received == data);
}

TEST_F(Tcp, SendallTimeoutBoundsTheWholeCall) {
  TcpPair pair = tcp_pair();
  pair.client.settimeout(kTick);
  const std::vector<std::byte> data(64 * 1024 * 1024);
  Stopwatch watch;
  EXPECT_THROW(pair.client.sendall(data), net::TimeoutError);
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
}

TEST_F(Tcp, HalfCloseEndsTheStreamOneWay) {
  TcpPair pair = tcp_pair();
  pair.client.sendall("last words");
  pair.client.shutdown(SHUT_WR);
  std::string got;
  for (std::string chunk; !(chunk = pair.server.recv(64)).empty();) got += chunk;
  EXPECT_EQ(got, "last words");
  EXPECT_EQ(pair.server.recv(64), "");
  pair.server.sendall("reply");
  EXPECT_EQ(pair.client.recv(64), "reply");
  EXPECT_THROW(pair.client.send("more"), net::BrokenPipeError);
}

TEST_F(Tcp, ResetByPeer) {
  TcpPair pair = tcp_pair();
  const linger abort_on_close{1, 0};
  pair.server.setsockopt(SOL_SOCKET, SO_LINGER, std::as_bytes(std::span(&abort_on_close, 1)));
  pair.server.close();
  try {
    pair.client.recv(16);
    ADD_FAILURE() << "recv after a reset returned";
  } catch (const net::ConnectionResetError& e) {
    EXPECT_EQ(e.code(), std::errc::connection_reset);
  }
}

TEST_F(Tcp, SendToAPeerThatClosedFailsWithoutSigpipe) {
  TcpPair pair = tcp_pair();
  pair.server.close();
  const auto deadline = Clock::now() + kPatience;
  bool failed = false;
  while (!failed && Clock::now() < deadline) {
    try {
      pair.client.send("x");
    } catch (const net::ConnectionError& e) {
      failed = true;
      EXPECT_TRUE(dynamic_cast<const net::BrokenPipeError*>(&e) != nullptr ||
                  dynamic_cast<const net::ConnectionResetError*>(&e) != nullptr)
          << e.what();
    }
  }
  EXPECT_TRUE(failed);
}

TEST_F(Tcp, ShutdownOfAnUnconnectedSocketIsENOTCONN) {
  Socket sock;
  try {
    sock.shutdown(SHUT_RDWR);
    ADD_FAILURE() << "shut down an unconnected socket";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::not_connected);
  }
}

TEST_F(Tcp, BindToAPortInUse) {
  Socket listener = net::create_server(Address::ipv4("127.0.0.1", 0));
  Socket other;
  try {
    other.bind(listener.getsockname());
    ADD_FAILURE() << "bound twice";
  } catch (const net::OSError& e) {
    EXPECT_EQ(e.code(), std::errc::address_in_use);
  }
}

TEST_F(Tcp, ConnectTimesOutWhenTheListenerCannotTakeMore) {
  // A listener whose accept queue is full drops new SYNs, so a connect hangs until its timeout.
  Socket listener(AF_INET, SOCK_STREAM);
  listener.bind(Address::ipv4("127.0.0.1", 0));
  listener.listen(0);
  std::vector<Socket> clients;
  for (int i = 0; i < 16; ++i) {
    Socket client;
    client.settimeout(kTick);
    Stopwatch watch;
    try {
      client.connect(listener.getsockname());
    } catch (const net::TimeoutError& e) {
      EXPECT_STREQ(e.what(), "timed out");
      EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
      Socket again;
      again.settimeout(kTick);
      EXPECT_EQ(again.connect_ex(listener.getsockname()), EWOULDBLOCK);
      return;
    }
    clients.push_back(std::move(client));
  }
  GTEST_SKIP() << "this network stack accepts connections beyond the backlog";
}

TEST_F(Tcp, ConcurrentSendAndRecvOnOneSocket) {
  TcpPair pair = tcp_pair();
  const std::vector<std::byte> out = pattern(2 * 1024 * 1024);
  std::vector<std::byte> back;
  // The server echoes; the client sends from one thread while another receives.
  std::jthread echo([&] {
    std::vector<std::byte> buffer(64 * 1024);
    while (const std::size_t n = pair.server.recv_into(buffer))
      pair.server.sendall(std::span(buffer.data(), n));
    pair.server.shutdown(SHUT_WR);
  });
  std::jthread receiver([&] { back = read_all(pair.client); });
  pair.client.sendall(out);
  pair.client.shutdown(SHUT_WR);
  receiver.join();
  echo.join();
  EXPECT_TRUE(back == out);
}

}  // namespace
