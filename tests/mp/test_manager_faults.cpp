// A manager under failure: garbage and truncated frames, unknown ids,
// methods and requests, wrong keys, silent and killed clients — each costs
// only the offending client; a manager that is gone makes proxies raise
// ManagerGoneError instead of hanging.
#include <signal.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <string>
#include <tuple>

#include "mp/child_process.hpp"
#include "weft/errors.hpp"
#include "weft/mp/authentication.hpp"
#include "weft/mp/listener.hpp"
#include "weft/mp/managers.hpp"
#include "weft/mp/queues.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/net/socket.hpp"

namespace {

namespace mp = weft::mp;
using namespace std::chrono_literals;
using Request = std::tuple<std::uint8_t, std::uint64_t, std::string, std::string>;
using Reply = std::tuple<bool, std::string>;

constexpr std::uint8_t kCall = 2;
constexpr std::uint8_t kCount = 7;

class ManagerFaults : public ::testing::Test {
 protected:
  // An authenticated connection that speaks the wire directly.
  mp::Connection raw_client() { return mp::Client(manager.address(), AF_UNSPEC, manager.authkey()); }

  // The type name of the error `reply` carries.
  static std::string error_of(const std::string& reply) {
    auto [ok, body] = weft::codec::decode<Reply>(reply);
    if (ok) return "(no error)";
    return weft::codec::decode<mp::detail::EncodedException>(body).type;
  }

  // The manager still serves: a proxy round trip works.
  void expect_serving() {
    d.setitem("alive", 1);
    EXPECT_EQ(d.getitem("alive"), 1);
  }

  mp::Manager manager;
  mp::DictProxy<std::string, int> d = manager.dict<std::string, int>();
};

TEST_F(ManagerFaults, GarbageFramesGetADecodeErrorAndTheConnectionServesOn) {
  auto conn = raw_client();
  conn.send_bytes(std::string("\xc1 this is not MessagePack", 25));
  EXPECT_EQ(error_of(conn.recv_bytes()), "weft::codec::DecodeError");
  conn.send_bytes(weft::codec::encode(std::string("a string, not a request")));
  EXPECT_EQ(error_of(conn.recv_bytes()), "weft::codec::DecodeError");
  conn.send_bytes(weft::codec::encode(Request{99, 0, "", ""}));
  EXPECT_EQ(error_of(conn.recv_bytes()), "ValueError");
  conn.send_bytes(weft::codec::encode(Request{kCount, 0, "", ""}));
  auto [ok, body] = weft::codec::decode<Reply>(conn.recv_bytes());
  EXPECT_TRUE(ok);
  EXPECT_EQ(weft::codec::decode<std::uint64_t>(body), 1u);
  expect_serving();
}

TEST_F(ManagerFaults, UnknownIdsAndMethodsAreTypedErrors) {
  auto conn = raw_client();
  conn.send_bytes(weft::codec::encode(Request{kCall, 987654, "len", weft::codec::encode(std::tuple<>())}));
  EXPECT_EQ(error_of(conn.recv_bytes()), "KeyError");
  conn.send_bytes(weft::codec::encode(Request{kCall, d.id(), "nope", weft::codec::encode(std::tuple<>())}));
  EXPECT_EQ(error_of(conn.recv_bytes()), "AttributeError");
  conn.send_bytes(weft::codec::encode(Request{kCall, d.id(), "len", "\x93"}));  // a truncated array
  EXPECT_EQ(error_of(conn.recv_bytes()), "weft::codec::DecodeError");
  expect_serving();
}

TEST_F(ManagerFaults, ATruncatedFrameEndsOnlyThatConnection) {
  auto conn = raw_client();
  const char header[4] = {0, 0, 0, 100};
  ASSERT_EQ(::send(conn.fileno(), header, 4, MSG_NOSIGNAL), 4);
  ASSERT_EQ(::send(conn.fileno(), "0123456789", 10, MSG_NOSIGNAL), 10);
  ::shutdown(conn.fileno(), SHUT_WR);
  EXPECT_THROW(conn.recv_bytes(), weft::EOFError);
  expect_serving();
}

TEST_F(ManagerFaults, AnOversizedLengthEndsOnlyThatConnection) {
  auto conn = raw_client();
  const char header[4] = {'\x7f', '\xff', '\xff', '\xff'};
  ASSERT_EQ(::send(conn.fileno(), header, 4, MSG_NOSIGNAL), 4);
  EXPECT_THROW(conn.recv_bytes(), weft::EOFError);
  expect_serving();
}

TEST_F(ManagerFaults, ASilentClientPinsNothing) {
  weft::net::Socket silent(AF_UNIX, SOCK_STREAM);
  silent.connect(manager.address());
  expect_serving();  // served while the silent client's handshake is pending
  auto other = raw_client();
  other.send_bytes(weft::codec::encode(Request{kCount, 0, "", ""}));
  EXPECT_TRUE(std::get<0>(weft::codec::decode<Reply>(other.recv_bytes())));
}

TEST_F(ManagerFaults, AWrongKeyIsAnAuthenticationError) {
  EXPECT_THROW(mp::Client(manager.address(), AF_UNSPEC, std::string("wrong")), mp::AuthenticationError);
  mp::BaseManager intruder(manager.address(), "wrong");
  EXPECT_THROW(intruder.connect(), mp::AuthenticationError);
  expect_serving();
}

TEST_F(ManagerFaults, AClientKilledMidCallLeavesTheServerServing) {
  auto l = manager.list<int>();
  mp::Queue<int> started;
  auto child = weft::test::Child::fork([l, started]() mutable {
    l.append(0);
    started.put(1);
    for (int i = 1;; ++i) l.append(i);
  });
  ASSERT_EQ(started.try_get(20s), 1);
  child.kill();
  expect_serving();
  const auto length = l.len();
  EXPECT_GE(length, 1u);
  EXPECT_EQ(l.getitem(static_cast<std::int64_t>(length) - 1), static_cast<int>(length) - 1);
}

TEST_F(ManagerFaults, AKilledManagerRaisesManagerGoneErrorPromptly) {
  d.setitem("x", 1);
  auto l = manager.list<int>();
  ASSERT_TRUE(manager.pid());
  ::kill(*manager.pid(), SIGKILL);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(d.getitem("x"), mp::ManagerGoneError);
  EXPECT_THROW(l.append(1), mp::ManagerGoneError);
  EXPECT_THROW(manager.Namespace(), mp::ManagerGoneError);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_F(ManagerFaults, AShutDownManagerRaisesManagerGoneError) {
  d.setitem("x", 1);
  manager.shutdown();
  EXPECT_FALSE(manager.pid());
  EXPECT_THROW(d.getitem("x"), mp::ManagerGoneError);
  EXPECT_THROW(d.getitem("x"), mp::ManagerGoneError);
}

TEST(ManagerLifetime, ProxiesOutlivingTheirManagerRaiseManagerGoneError) {
  std::optional<mp::DictProxy<int, int>> d;
  {
    mp::Manager manager;
    d.emplace(manager.dict<int, int>());
    d->setitem(1, 1);
  }
  EXPECT_THROW(d->getitem(1), mp::ManagerGoneError);
}

TEST(ManagerLifetime, AChildForkedDuringTheHandshakeKeepsNoCopyOfTheConnection) {
  // A server without a key: the test plays its side of the handshake.
  mp::Listener server(std::nullopt, AF_UNIX);
  mp::BaseManager client(server.address(), "client key");
  auto connecting = std::async(std::launch::async, [&] { client.connect(); });
  auto conn = server.accept();  // the client now waits for its challenge
  auto child = weft::test::Child::fork([] { ::pause(); });
  EXPECT_THROW(mp::deliver_challenge(conn, "server key"), mp::AuthenticationError);
  ASSERT_EQ(connecting.wait_for(20s), std::future_status::ready);
  EXPECT_THROW(connecting.get(), mp::AuthenticationError);
  // The client closed its end, and the child's copy let go of the
  // connection at the fork: the server sees the end while the child lives.
  ASSERT_TRUE(conn.poll(20s));
  EXPECT_THROW(conn.recv_bytes(), weft::EOFError);
  EXPECT_EQ(child.kill(), 128 + SIGKILL) << "the child lived on until now";
}

}  // namespace
