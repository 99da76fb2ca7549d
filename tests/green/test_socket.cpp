// wait_readable / wait_writable and green::socket: parking on readiness,
// timeouts, several waiters, closing under a waiter, the three socket
// modes, on both loop backends.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "io_support.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/socket.hpp"
#include "weft/green/timeout.hpp"
#include "weft/green/wait.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

namespace green = weft::green;
namespace net = weft::net;
namespace io = weft::io;
using namespace std::chrono_literals;
using green::test::on_backend;
using green::test::Stopwatch;
using green::test::wait_child;

namespace {

class GreenIo : public ::testing::TestWithParam<io::Backend> {
 protected:
  template <class F>
  void run(F scenario) {
    on_backend(GetParam(), std::move(scenario));
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, GreenIo, ::testing::Values(io::Backend::epoll, io::Backend::io_uring),
                         [](const auto& info) { return green::test::backend_name(info.param); });

TEST_P(GreenIo, WaitReadableParksUntilDataArrives) {
  run([] {
    auto [a, b] = net::socketpair();
    std::vector<std::string> order;
    auto reader = green::spawn([&, fd = a.fileno()] {
      order.push_back("waiting");
      green::wait_readable(fd);
      order.push_back("readable");
    });
    auto writer = green::spawn([&, &b = b] {
      green::sleep(20ms);
      order.push_back("writing");
      b.sendall("x");
    });
    green::joinall({reader, writer});
    EXPECT_EQ(order, (std::vector<std::string>{"waiting", "writing", "readable"}));
    EXPECT_TRUE(reader.successful());
  });
}

TEST_P(GreenIo, WaitFromTheMainGreenletRunsTheHub) {
  run([] {
    auto [a, b] = net::socketpair();
    bool wrote = false;
    green::spawn([&, &b = b] {
      green::sleep(10ms);
      b.sendall("x");
      wrote = true;
    });
    green::wait_readable(a.fileno());
    EXPECT_TRUE(wrote);
    green::wait_writable(a.fileno());
  });
}

TEST_P(GreenIo, WaitTimesOutWithSocketTimeoutError) {
  run([] {
    auto [a, b] = net::socketpair();
    EXPECT_THROW(green::wait_readable(a.fileno(), -1ms), net::TimeoutError) << "a negative timeout counts as 0";
    Stopwatch watch;
    EXPECT_THROW(green::wait_readable(a.fileno(), 50ms), net::TimeoutError);
    EXPECT_GE(watch.seconds(), 0.045);
    EXPECT_LT(watch.seconds(), 5.0);
    // The cancelled wait left nothing behind: the next one works.
    b.sendall("x");
    green::wait_readable(a.fileno(), 5s);
  });
}

TEST_P(GreenIo, SeveralGreenletsWaitOnOneDescriptor) {
  run([] {
    auto [a, b] = net::socketpair();
    int woken = 0;
    std::vector<green::AnyGreenlet> waiters;
    for (int i = 0; i < 3; ++i)
      waiters.push_back(green::spawn([&, fd = a.fileno()] {
        green::wait_readable(fd);
        ++woken;
      }));
    green::sleep(10ms);
    EXPECT_EQ(woken, 0);
    b.sendall("x");
    green::joinall(waiters);
    EXPECT_EQ(woken, 3);
  });
}

TEST_P(GreenIo, ReadAndWriteWaitsOnOneDescriptorAreIndependent) {
  run([] {
    auto [a, b] = net::socketpair();
    bool readable = false;
    auto reader = green::spawn([&, fd = a.fileno()] {
      green::wait_readable(fd);
      readable = true;
    });
    auto writer = green::spawn([fd = a.fileno()] { green::wait_writable(fd); });
    writer.join();
    EXPECT_FALSE(readable);
    b.sendall("x");
    reader.join();
    EXPECT_TRUE(readable);
  });
}

TEST_P(GreenIo, AnExceptionThrownIntoTheWaitCancelsItCleanly) {
  run([] {
    auto [a, b] = net::socketpair();
    for (int round = 0; round < 3; ++round) {
      auto waiter = green::spawn([fd = a.fileno()] { green::wait_readable(fd); });
      green::sleep(5ms);
      waiter.kill();
      EXPECT_TRUE(waiter.ready());
    }
    {
      green::Timeout timeout(20ms);
      EXPECT_THROW(green::wait_readable(a.fileno()), green::Timeout);
    }
    b.sendall("x");
    auto waiter = green::spawn([fd = a.fileno()] { green::wait_readable(fd); });
    EXPECT_TRUE(waiter.join(5s));
    EXPECT_TRUE(waiter.successful());
  });
}

TEST_P(GreenIo, ClosingASocketWakesItsWaitersWithEBADF) {
  run([] {
    auto [a, b] = green::socketpair();
    std::string error;
    auto reader = green::spawn([&, &a = a] {
      try {
        a.recv(10);
      } catch (const net::OSError& e) {
        error = e.what();
        EXPECT_EQ(e.code().value(), EBADF);
      }
    });
    auto closer = green::spawn([&, &a = a] {
      green::sleep(10ms);
      a.close();
    });
    green::joinall({reader, closer});
    EXPECT_EQ(error, "[Errno 9] File descriptor was closed in another greenlet");
  });
}

TEST_P(GreenIo, ADescriptorNumberReusedAfterCloseFdIsWatchedAfresh) {
  run([] {
    for (int round = 0; round < 20; ++round) {
      auto [a, b] = net::socketpair();
      const int fd = a.detach();
      auto waiter = green::spawn([fd] { green::wait_readable(fd, 5s); });
      green::sleep(1ms);
      b.sendall("x");
      EXPECT_TRUE(waiter.join(5s));
      EXPECT_TRUE(waiter.successful()) << "round " << round;
      green::close_fd(fd);
    }
  });
}

TEST_P(GreenIo, RegularFilesAreAlwaysReady) {
  run([] {
    char path[] = "/tmp/weft-green-io-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    green::wait_readable(fd, 5s);
    green::wait_writable(fd, 5s);
    green::close_fd(fd);
  });
}

TEST_P(GreenIo, RecvParksTheGreenletNotTheThread) {
  run([] {
    auto [a, b] = green::socketpair();
    int ticks = 0;
    auto ticker = green::spawn([&] {
      for (int i = 0; i < 5; ++i) {
        green::sleep(2ms);
        ++ticks;
      }
    });
    auto reader = green::spawn([&, &a = a] { return a.recv(100); });
    ticker.join();
    EXPECT_EQ(ticks, 5);
    EXPECT_FALSE(reader.ready());
    b.sendall("hello");
    EXPECT_EQ(reader.get(), "hello");
  });
}

TEST_P(GreenIo, ARecvAfterAShortReadWaitsForReadabilityBeforeReading) {
  run([] {
    auto [a, b] = green::socketpair();
    std::array<char, 64> buffer{};
    b.sendall("first");
    EXPECT_EQ(a.recv_into(std::span(buffer)), 5u);  // less than asked: the socket is drained
    b.sendall("second");
    bool hub_ran = false;
    green::spawn([&] { hub_ran = true; });
    EXPECT_EQ(a.recv(64), "second");
    EXPECT_TRUE(hub_ran) << "the receive parked on readiness first, though the data was there";

    // A receive that filled its buffer leaves more to read: the next one
    // reads at once, without a trip through the hub.
    b.sendall("abcd");
    EXPECT_EQ(a.recv(2), "ab");
    hub_ran = false;
    green::spawn([&] { hub_ran = true; });
    EXPECT_EQ(a.recv(2), "cd");
    EXPECT_FALSE(hub_ran);
    green::sleep(0ms);
    EXPECT_TRUE(hub_ran);
  });
}

TEST_P(GreenIo, ADrainedSocketInTimeoutModeStillTakesWhatArrivedInTime) {
  run([] {
    auto [a, b] = green::socketpair();
    b.sendall("x");
    EXPECT_EQ(a.recv(64), "x");
    b.sendall("queued");
    a.settimeout(1ns);  // the deadline passes before the hub reports readiness
    EXPECT_EQ(a.recv(64), "queued");
    EXPECT_EQ(a.try_recv(64), std::nullopt);
    b.sendall("y");
    EXPECT_EQ(a.try_recv(64), "y");
    EXPECT_THROW(a.recv(64), net::TimeoutError);
    a.setblocking(false);
    EXPECT_THROW(a.recv(64), net::BlockingIOError);
  });
}

TEST_P(GreenIo, AWatchNobodyWaitsOnAgainIsReleased) {
  run([] {
    auto [a, b] = green::socketpair();
    auto reader = green::spawn([&a = a] { return a.recv(64); });
    green::sleep(1ms);
    b.sendall("x");
    EXPECT_EQ(reader.get(), "x");
    // The reader is gone and the socket drained: once the loop has turned,
    // nothing is left to keep it alive (which would hide a LoopExit).
    green::sleep(5ms);
    EXPECT_FALSE(green::Hub::current().loop().alive());
    EXPECT_THROW(green::Event().wait(), green::LoopExit);
  });
}

TEST_P(GreenIo, SocketModesFollowPython) {
  run([] {
    auto [a, b] = green::socketpair();
    EXPECT_EQ(a.gettimeout(), std::nullopt);
    EXPECT_TRUE(a.getblocking());

    a.settimeout(30ms);
    Stopwatch watch;
    EXPECT_THROW(a.recv(10), net::TimeoutError);
    EXPECT_GE(watch.seconds(), 0.025);
    EXPECT_EQ(a.try_recv(10), std::nullopt);

    a.setblocking(false);
    EXPECT_EQ(a.gettimeout(), std::chrono::nanoseconds::zero());
    EXPECT_THROW(a.recv(10), net::BlockingIOError);
    EXPECT_EQ(a.try_recv(10), std::nullopt);

    b.sendall("data");
    green::wait_readable(a.fileno(), 5s);
    EXPECT_EQ(a.recv(10), "data");
    EXPECT_THROW(a.settimeout(-1s), weft::ValueError);

    a.setblocking(true);
    b.close();
    EXPECT_EQ(a.recv(10), "");
  });
}

TEST_P(GreenIo, SendallDeliversALargePayloadToASlowReader) {
  run([] {
    auto [a, b] = green::socketpair();
    std::string payload(4 << 20, '\0');
    std::mt19937 random(7);
    for (char& c : payload) c = static_cast<char>(random());
    auto writer = green::spawn([&, &a = a] {
      a.sendall(payload);
      a.shutdown(SHUT_WR);
    });
    const std::string received = green::test::receive_in_random_pieces<65536>(b, random);
    writer.join();
    EXPECT_TRUE(writer.successful());
    EXPECT_EQ(received.size(), payload.size());
    EXPECT_TRUE(received == payload);
  });
}

TEST_P(GreenIo, SendallInTimeoutModeBoundsTheWholeCall) {
  run([] {
    auto [a, b] = green::socketpair();
    a.settimeout(50ms);
    const std::string payload(16 << 20, 'x');  // more than the socket buffers hold
    Stopwatch watch;
    EXPECT_THROW(a.sendall(payload), net::TimeoutError);
    EXPECT_GE(watch.seconds(), 0.045);
    EXPECT_LT(watch.seconds(), 5.0);
  });
}

TEST_P(GreenIo, ConnectAcceptAndCreateConnection) {
  run([] {
    green::socket listener;
    listener.bind(net::Address::ipv4("127.0.0.1", 0));
    listener.listen();
    const net::Address address = listener.getsockname();
    auto server = green::spawn([&] {
      auto [conn, peer] = listener.accept();
      EXPECT_EQ(conn.gettimeout(), net::getdefaulttimeout());
      EXPECT_EQ(peer.host(), "127.0.0.1");
      conn.sendall(conn.recv(100) + "!");
    });
    green::socket client = green::create_connection(address, 5s);
    client.sendall("hi");
    EXPECT_EQ(client.recv(100), "hi!");
    server.join();
    EXPECT_TRUE(server.successful());

    listener.close();
    EXPECT_EQ(listener.fileno(), -1);
    green::socket refused;
    EXPECT_THROW(refused.connect(address), net::ConnectionRefusedError);
    green::socket again;
    EXPECT_EQ(again.connect_ex(address), ECONNREFUSED);
    EXPECT_THROW(green::create_connection("127.0.0.1", address.port()), net::ConnectionRefusedError);
  });
}

TEST_P(GreenIo, AcceptTimesOutAndTryAcceptReturnsNothing) {
  run([] {
    green::socket listener;
    listener.bind(net::Address::ipv4("127.0.0.1", 0));
    listener.listen();
    listener.settimeout(20ms);
    EXPECT_THROW(listener.accept(), net::TimeoutError);
    EXPECT_EQ(listener.try_accept(), std::nullopt);
  });
}

TEST_P(GreenIo, DatagramsAndMessages) {
  run([] {
    green::socket receiver(AF_INET, SOCK_DGRAM);
    receiver.bind(net::Address::ipv4("127.0.0.1", 0));
    green::socket sender(AF_INET, SOCK_DGRAM);
    auto got = green::spawn([&] { return receiver.recvfrom(100); });
    green::sleep(5ms);
    sender.sendto("ping", receiver.getsockname());
    auto [data, from] = got.get();
    EXPECT_EQ(data, "ping");
    EXPECT_EQ(from.port(), sender.getsockname().port());

    auto [a, b] = green::socketpair();
    auto reader = green::spawn([&b = b] {
      char buffer[16] = {};
      iovec iov{buffer, sizeof buffer};
      msghdr message{};
      message.msg_iov = &iov;
      message.msg_iovlen = 1;
      const std::size_t n = b.recvmsg(message);
      return std::string(buffer, n);
    });
    green::sleep(5ms);
    char text[] = "message";
    iovec iov{text, 7};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    EXPECT_EQ(a.sendmsg(message), 7u);
    EXPECT_EQ(reader.get(), "message");
  });
}

TEST_P(GreenIo, MovedAndDuplicatedSockets) {
  run([] {
    auto [a, b] = green::socketpair();
    green::socket moved = std::move(a);
    EXPECT_EQ(a.fileno(), -1);
    green::socket copy = moved.dup();
    EXPECT_NE(copy.fileno(), moved.fileno());
    copy.sendall("via dup");
    EXPECT_EQ(b.recv(100), "via dup");
    green::socket adopted(net::Socket(AF_INET, SOCK_STREAM));
    EXPECT_EQ(adopted.gettimeout(), net::getdefaulttimeout());
  });
}

// A forked child gets a hub and loop of its own on its first green call, as gevent's
// hub.loop.reinit() gives it: the parent's greenlets are not resumed there, the child's sleeps
// and socket waits work on either backend, and its closing an inherited socket leaves the
// parent's wait on it in place.
TEST_P(GreenIo, AForkedChildGetsAHubOfItsOwnAndLeavesTheParentsAlone) {
  run([] {
    auto [a, b] = green::socketpair();
    auto reader = green::spawn([&a = a] { return a.recv(100); });
    bool ticked = false;
    auto ticker = green::spawn([&] {
      green::sleep(20ms);
      ticked = true;
    });
    green::sleep();  // both park: the hub watches a
    green::Hub* parents = &green::Hub::current();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int code = 0;
      try {
        Stopwatch watch;
        green::sleep(100ms);
        auto [c, d] = green::socketpair();
        auto echo = green::spawn([&c = c] { return c.recv(10); });
        d.sendall("hi");
        if (&green::Hub::current() == parents) {
          code = 2;
        } else if (ticked) {
          code = 3;
        } else if (watch.seconds() < 0.09 || watch.seconds() > 5.0) {
          code = 4;
        } else if (echo.get(true, 5s) != "hi") {
          code = 5;
        }
        a.close();
      } catch (...) {
        code = 6;
      }
      ::_exit(code);
    }
    const int status = wait_child(pid, 30s);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    b.sendall("hello parent");
    EXPECT_EQ(reader.get(true, 10s), "hello parent");
    ticker.join();
    EXPECT_TRUE(ticked);
  });
}

TEST(GreenSocket, ClosesEveryDescriptor) {
  const int before = green::test::open_fds();
  on_backend(io::Backend::automatic, [] {
    for (int i = 0; i < 10; ++i) {
      auto [a, b] = green::socketpair();
      auto reader = green::spawn([&b = b] { return b.recv(10); });
      green::sleep(1ms);
      a.sendall("x");
      EXPECT_EQ(reader.get(), "x");
    }
  });
  EXPECT_EQ(green::test::open_fds(), before);
}

}  // namespace
