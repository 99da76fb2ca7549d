// StreamServer: a cooperative echo with 1000 greenlet clients on one thread
// (every byte checked, no descriptor leaked), stop() waiting for and then
// killing handlers, serve_forever, a Pool bounding the handlers.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/pool.hpp"
#include "weft/green/server.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/socket.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

namespace green = weft::green;
namespace net = weft::net;
namespace io = weft::io;
using namespace std::chrono_literals;
using green::test::on_backend;
using green::test::Stopwatch;

namespace {

const net::Address kLoopback = net::Address::ipv4("127.0.0.1", 0);

// Echoes until the peer shuts down its side, reading in random sizes.
void echo(green::socket& conn, net::Address) {
  std::mt19937 random(static_cast<unsigned>(conn.fileno()));
  std::array<char, 16384> buffer;
  std::uniform_int_distribution<std::size_t> sizes(1, buffer.size());
  for (;;) {
    const std::size_t n = conn.recv_into(std::span(buffer.data(), sizes(random)));
    if (n == 0) return;
    conn.sendall(std::string_view(buffer.data(), n));
  }
}

// One client: writes a random payload in random pieces from a greenlet of
// its own while reading the echo back in random pieces; true if every
// byte came back in order.
bool echo_client(const net::Address& address, unsigned seed) {
  std::mt19937 random(seed);
  std::string payload(std::uniform_int_distribution<std::size_t>(1, 32768)(random), '\0');
  for (char& c : payload) c = static_cast<char>(random());
  green::socket conn = green::create_connection(address);
  auto writer = green::spawn([&] {
    std::mt19937 pieces(seed + 1);
    std::size_t sent = 0;
    while (sent < payload.size()) {
      const std::size_t n = std::min(payload.size() - sent, std::uniform_int_distribution<std::size_t>(1, 8192)(pieces));
      conn.sendall(std::string_view(payload).substr(sent, n));
      sent += n;
      if (pieces() % 4 == 0) green::sleep();
    }
    conn.shutdown(SHUT_WR);
  });
  const std::string received = green::test::receive_in_random_pieces<8192>(conn, random);
  writer.join();
  return writer.successful() && received == payload;
}

class Server : public ::testing::TestWithParam<io::Backend> {
 protected:
  template <class F>
  void run(F scenario) {
    on_backend(GetParam(), std::move(scenario));
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, Server, ::testing::Values(io::Backend::epoll, io::Backend::io_uring),
                         [](const auto& info) { return green::test::backend_name(info.param); });

TEST_P(Server, EchoesToAThousandGreenletClientsOnOneThread) {
  static constexpr int kClients = 1000;
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_max != RLIM_INFINITY && files.rlim_max < 2 * kClients + 100)
    GTEST_SKIP() << "needs " << 2 * kClients + 100 << " descriptors";
  files.rlim_cur = files.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &files);

  const int before = green::test::open_fds();
  run([] {
    green::StreamServer server(kLoopback, echo, nullptr, 2 * kClients);
    server.start();
    const net::Address address = server.address();
    EXPECT_NE(address.port(), 0);
    int right = 0;
    std::vector<green::AnyGreenlet> clients;
    for (int i = 0; i < kClients; ++i)
      clients.push_back(green::spawn([&, i] {
        if (echo_client(address, static_cast<unsigned>(i))) ++right;
      }));
    green::joinall(clients);
    EXPECT_EQ(right, kClients);
    for (const auto& client : clients) EXPECT_TRUE(client.successful());
    server.stop();
    EXPECT_EQ(server.handler_count(), 0u);
  });
  EXPECT_EQ(green::test::open_fds(), before);
}

TEST_P(Server, StopWaitsForHandlersThatFinish) {
  run([] {
    int finished = 0;
    green::StreamServer server(kLoopback, [&](green::socket&, net::Address) {
      green::sleep(30ms);
      ++finished;
    });
    server.start();
    std::vector<green::socket> clients;
    for (int i = 0; i < 3; ++i) clients.push_back(green::create_connection(server.address()));
    while (server.handler_count() < 3) green::sleep(1ms);
    server.stop(5s);
    EXPECT_EQ(finished, 3);
    EXPECT_TRUE(server.closed());
    EXPECT_THROW(green::create_connection(server.address()), net::ConnectionRefusedError);
  });
}

TEST_P(Server, StopKillsHandlersStillRunningAfterTheTimeout) {
  run([] {
    int killed = 0;
    green::StreamServer server(kLoopback, [&](green::socket& conn, net::Address) {
      try {
        conn.recv(10);  // the client never writes
      } catch (const green::GreenletExit&) {
        ++killed;
        throw;
      }
    });
    server.start();
    green::socket client = green::create_connection(server.address());
    while (server.handler_count() < 1) green::sleep(1ms);
    Stopwatch watch;
    server.stop(50ms);
    EXPECT_GE(watch.seconds(), 0.045);
    EXPECT_LT(watch.seconds(), 5.0);
    EXPECT_EQ(killed, 1);
    EXPECT_EQ(server.handler_count(), 0u);
    EXPECT_EQ(client.recv(10), "");  // the handler's connection was closed
  });
}

TEST_P(Server, ServeForeverReturnsOnceStopped) {
  run([] {
    green::StreamServer server(kLoopback, echo);
    auto serving = green::spawn([&] { server.serve_forever(); });
    green::sleep(5ms);
    EXPECT_TRUE(server.started());
    green::socket client = green::create_connection(server.address());
    client.sendall("ping");
    EXPECT_EQ(client.recv(10), "ping");
    client.close();
    server.stop();
    EXPECT_TRUE(serving.join(5s));
    EXPECT_TRUE(serving.successful());
    EXPECT_THROW(server.start(), weft::RuntimeError);
  });
}

TEST_P(Server, APoolBoundsTheHandlersRunningAtOnce) {
  run([] {
    green::Pool pool(2);
    int running = 0;
    int peak = 0;
    int served = 0;
    green::StreamServer server(
        kLoopback,
        [&](green::socket& conn, net::Address) {
          peak = std::max(peak, ++running);
          green::sleep(10ms);
          conn.sendall("done");
          --running;
          ++served;
        },
        &pool);
    server.start();
    std::vector<green::AnyGreenlet> clients;
    for (int i = 0; i < 6; ++i)
      clients.push_back(green::spawn([&] {
        green::socket conn = green::create_connection(server.address());
        EXPECT_EQ(conn.recv(10), "done");
      }));
    green::joinall(clients);
    EXPECT_EQ(served, 6);
    EXPECT_EQ(peak, 2);
    server.stop();
  });
}

TEST_P(Server, AFailingHandlerEndsOnlyItsOwnGreenlet) {
  run([] {
    int calls = 0;
    green::StreamServer server(kLoopback, [&](green::socket& conn, net::Address) {
      if (++calls == 1) throw std::runtime_error("the first handler fails");
      conn.sendall("ok");
    });
    server.start();
    green::socket first = green::create_connection(server.address());
    EXPECT_EQ(first.recv(10), "");
    green::socket second = green::create_connection(server.address());
    EXPECT_EQ(second.recv(10), "ok");
    server.stop();
  });
}

TEST_P(Server, ServesOnAGivenListeningSocket) {
  run([] {
    green::socket listener;
    listener.bind(kLoopback);
    listener.listen();
    const net::Address address = listener.getsockname();
    green::StreamServer server(std::move(listener), echo);
    EXPECT_EQ(server.address(), address);
    server.start();
    green::socket client = green::create_connection(address);
    client.sendall("given");
    EXPECT_EQ(client.recv(10), "given");
    server.close();
    server.close();
  });
}

// Sets net::setdefaulttimeout() for its scope.
struct DefaultTimeout {
  explicit DefaultTimeout(std::chrono::nanoseconds timeout) { net::setdefaulttimeout(timeout); }
  ~DefaultTimeout() { net::setdefaulttimeout(std::nullopt); }
  DefaultTimeout(const DefaultTimeout&) = delete;
  DefaultTimeout& operator=(const DefaultTimeout&) = delete;
};

// The server waits for connections as long as it stays idle: neither net::setdefaulttimeout()
// nor the timeout of a listener it is given bounds its accept, so it never reports a timeout
// as a failed accept, nor backs off and accepts late.
TEST_P(Server, AnIdleServerWaitsForConnectionsWhateverTheTimeouts) {
  run([] {
    const auto reply = [](green::socket& conn, net::Address) { conn.sendall("x"); };
    green::socket listener;
    listener.bind(kLoopback);
    listener.listen();
    listener.settimeout(10ms);
    green::StreamServer given(std::move(listener), reply);
    green::StreamServer made(kLoopback, reply);
    testing::internal::CaptureStderr();
    given.start();
    {
      const DefaultTimeout short_default(10ms);
      made.start();  // its listener is made now
    }
    green::sleep(0.1s);  // ten times the timeouts
    for (green::StreamServer* server : {&made, &given}) {
      green::socket client = green::create_connection(server->address());
      EXPECT_EQ(client.recv(1), "x");
      server->stop();
    }
    EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  });
}

}  // namespace
