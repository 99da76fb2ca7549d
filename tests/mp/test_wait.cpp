// weft::mp::wait(), Python's multiprocessing.connection.wait(): which of several Connections,
// sockets, sentinels and descriptors are ready; timeouts; what it refuses.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <weft/errors.hpp>
#include <weft/mp/connection.hpp>
#include <weft/mp/process.hpp>
#include <weft/mp/wait.hpp>
#include <weft/net/errors.hpp>
#include <weft/net/socket.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "mp/connection_support.hpp"

namespace {

using namespace std::chrono_literals;
using namespace weft::test;
namespace mp = weft::mp;
namespace net = weft::net;
using mp::Connection;
using mp::Pipe;

using WaitTest = NetTest;

static_assert(mp::detail::Waitable<int>);
static_assert(mp::detail::Waitable<Connection*>);
static_assert(mp::detail::Waitable<std::unique_ptr<Connection>>);
static_assert(mp::detail::Waitable<std::reference_wrapper<net::Socket>>);
static_assert(mp::detail::Waitable<std::variant<Connection*, int>>);
static_assert(!mp::detail::Waitable<std::string>);
static_assert(!mp::detail::Waitable<std::variant<Connection*, std::string>>);

TEST_F(WaitTest, ReturnsOnlyTheReadyConnectionsInTheOrderGiven) {
  auto [a_reader, a_writer] = Pipe(false);
  auto [b_reader, b_writer] = Pipe(false);
  auto [c_reader, c_writer] = Pipe(false);
  EXPECT_TRUE(mp::wait({&a_reader, &b_reader, &c_reader}, 0s).empty());

  c_writer.send_bytes("c");
  a_writer.send_bytes("a");
  const std::vector<Connection*> ready = mp::wait({&a_reader, &b_reader, &c_reader});
  EXPECT_EQ(ready, (std::vector<Connection*>{&a_reader, &c_reader}));
  EXPECT_EQ(ready[1]->recv_bytes(), "c");
  EXPECT_EQ(mp::wait({&a_reader, &b_reader, &c_reader}, 0s), std::vector<Connection*>{&a_reader});
}

TEST_F(WaitTest, WithoutATimeoutWaitsForAMessageFromAnotherThread) {
  auto [reader, writer] = Pipe(false);
  auto [idle_reader, idle_writer] = Pipe(false);
  std::thread sender([&writer = writer] { writer.send_bytes("late"); });
  const std::vector<std::reference_wrapper<Connection>> watched{idle_reader, reader};
  const auto ready = mp::wait(watched);
  sender.join();
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(&ready[0].get(), &reader);
  EXPECT_EQ(mp::wait(watched, std::nullopt).size(), 1u);
}

TEST_F(WaitTest, TheEndOfAPeerCountsAsReady) {
  auto [reader, writer] = Pipe(false);
  writer.close();
  EXPECT_EQ(mp::wait({&reader}, 5s), std::vector<Connection*>{&reader});
  EXPECT_THROW(reader.recv_bytes(), weft::EOFError);
}

TEST_F(WaitTest, ASentinelIsReadyOnceItsProcessEnds) {
  auto [reader, writer] = Pipe(false);
  auto [go_reader, go_writer] = Pipe(false);
  mp::Process child(
      [&go_reader = go_reader] {
        go_reader.recv_bytes();
      });
  child.start();
  using Watched = std::variant<Connection*, int>;
  const std::vector<Watched> watched{&reader, child.sentinel()};
  EXPECT_TRUE(mp::wait(watched, 0s).empty());
  go_writer.send_bytes("exit");
  EXPECT_EQ(mp::wait(watched, 10s), std::vector<Watched>{child.sentinel()});
  child.join();
  EXPECT_EQ(child.exitcode(), 0);
}

TEST_F(WaitTest, AListeningSocketIsReadyWithAConnectionToAccept) {
  net::Socket server(AF_INET, SOCK_STREAM);
  server.bind(net::Address::ipv4("127.0.0.1", 0));
  server.listen();
  EXPECT_TRUE(mp::wait({&server}, 0s).empty());
  net::Socket client(AF_INET, SOCK_STREAM);
  client.connect(server.getsockname());
  EXPECT_EQ(mp::wait({&server}, 10s), std::vector<net::Socket*>{&server});
  server.accept();
}

TEST_F(WaitTest, ANegativeTimeoutCountsAsZero) {
  auto [reader, writer] = Pipe(false);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(mp::wait({&reader}, -5s).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST_F(WaitTest, ATimeoutEndsTheWaitEvenWithSignalsArriving) {
  struct sigaction action {};
  action.sa_handler = [](int) {};
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);  // no SA_RESTART: poll fails with EINTR
  auto [reader, writer] = Pipe(false);
  std::atomic<bool> done{false};
  const pthread_t waiter = ::pthread_self();
  std::thread interrupter([&] {
    for (int i = 0; i < 1000 && !done.load(); ++i) {
      ::pthread_kill(waiter, SIGUSR1);
      std::this_thread::sleep_for(1ms);
    }
  });
  const auto start = std::chrono::steady_clock::now();
  const auto ready = mp::wait({&reader}, 100ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  done = true;
  interrupter.join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_TRUE(ready.empty());
  EXPECT_GE(waited, 100ms);
}

TEST_F(WaitTest, RefusesClosedObjectsBadDescriptorsAndNaN) {
  auto [reader, writer] = Pipe(false);
  Connection closed = std::move(writer);
  closed.close();
  EXPECT_THROW(mp::wait({&reader, &closed}, 0s), net::OSError);
  EXPECT_THROW(mp::wait({-1}, 0s), net::OSError);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  ::close(fds[1]);
  try {
    mp::wait({fds[0]}, 0s);
    ADD_FAILURE() << "a closed descriptor was accepted";
  } catch (const net::OSError& error) {
    EXPECT_EQ(error.code(), std::errc::bad_file_descriptor);
  }
  EXPECT_THROW(mp::wait({&reader}, std::chrono::duration<double>(std::nan(""))), weft::ValueError);
}

TEST_F(WaitTest, AnEmptyListWaitsForTheTimeout) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(mp::wait(std::vector<int>{}, 20ms).empty());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 20ms);
}

}  // namespace
