// weft's Listener and Client against CPython's multiprocessing.connection: a Python Client
// connecting to a weft Listener and a weft Client to a Python Listener, over Unix paths, abstract
// names and TCP, exchanging send_bytes/recv_bytes messages both ways, and a wrong key failing
// with AuthenticationError on both sides. Run with the system's Python 3 (3.11 on Debian 12,
// which speaks the legacy HMAC-MD5 handshake) and with a Python >= 3.12 (the "{sha256}" form)
// when the machine has one.
#include <gtest/gtest.h>
#include <unistd.h>
#include <weft/mp/errors.hpp>
#include <weft/mp/listener.hpp>

#include <future>
#include <ostream>
#include <string>
#include <vector>

#include "mp/connection_support.hpp"

#ifndef WEFT_TEST_PYTHON3
#error "WEFT_TEST_PYTHON3 must name the Python interpreter (or be empty)"
#endif

namespace {

using namespace weft::test;
namespace mp = weft::mp;
namespace net = weft::net;
using mp::Connection;
using mp::Listener;
using net::Address;

const std::string kKey = "interop key";
const std::vector<std::string> kMessages = {"", "hello", [] {
                                              std::string all(256, '\0');
                                              for (int i = 0; i < 256; ++i)
                                                all[i] = static_cast<char>(i);
                                              return all;
                                            }(),
                                            std::string(300000, 'x')};

std::string script(const std::string& name) {
  return std::string(WEFT_TEST_PYTHON_SCRIPTS) + "/" + name;
}

// weft's half of interop_common.exchange().
void exchange(Connection& conn) {
  for (const std::string& message : kMessages) {
    conn.send_bytes(message);
    ASSERT_TRUE(conn.poll(kPatience));
    ASSERT_EQ(conn.recv_bytes(), "py:" + message);
  }
  for (const std::string& expected : kMessages) {
    ASSERT_TRUE(conn.poll(kPatience));
    const std::string message = conn.recv_bytes();
    ASSERT_EQ(message, expected);
    conn.send_bytes("weft:" + message);
  }
}

// Accepts one connection, or, if none comes within kPatience (the Python side failed), makes a
// throwaway one so that accept() returns, and reports the failure.
Connection accept_or_unblock(Listener& listener) {
  auto accepted = std::async(std::launch::async, [&] { return listener.accept(); });
  if (accepted.wait_for(kPatience) != std::future_status::ready) {
    ADD_FAILURE() << "no client came";
    try {
      mp::Client(listener.address()).close();
    } catch (const std::exception&) {
    }
  }
  return accepted.get();
}

struct Interpreter {
  std::string label;
  std::string path;
};

void PrintTo(const Interpreter& interpreter, std::ostream* out) {
  *out << interpreter.label << " (" << (interpreter.path.empty() ? "absent" : interpreter.path)
       << ")";
}

class PythonInterop : public ::testing::TestWithParam<Interpreter> {
 protected:
  void SetUp() override {
    if (GetParam().path.empty() || ::access(GetParam().path.c_str(), X_OK) != 0)
      GTEST_SKIP() << "no " << GetParam().label << " on this machine";
  }
  Child python(const std::string& name, std::vector<std::string> args) {
    args.insert(args.begin(), {GetParam().path, "-B", script(name)});
    return Child::exec(args);
  }
};

TEST_P(PythonInterop, PythonClientToWeftListener) {
  const std::vector<Address> addresses = {Address::parse("unix:@weft-interop-" +
                                                         std::to_string(::getpid())),
                                          Address::ipv4("127.0.0.1", 0)};
  for (std::optional<Address> address : {std::optional<Address>(), std::optional(addresses[0]),
                                         std::optional(addresses[1])}) {
    Listener listener(address, AF_UNSPEC, 1, kKey);
    Child client = python("mp_client.py", {listener.address().to_string(), kKey, "ok"});
    Connection conn = accept_or_unblock(listener);
    exchange(conn);
    EXPECT_EQ(client.read_line(), "ok");
    EXPECT_EQ(client.wait(), 0);
  }
}

TEST_P(PythonInterop, PythonClientWithoutKeyToWeftListenerWithout) {
  Listener listener;
  Child client = python("mp_client.py", {listener.address().to_string(), "-", "ok"});
  Connection conn = accept_or_unblock(listener);
  exchange(conn);
  EXPECT_EQ(client.read_line(), "ok");
  EXPECT_EQ(client.wait(), 0);
}

TEST_P(PythonInterop, WeftClientToPythonListener) {
  for (const std::string family : {"unix", "abstract", "tcp"}) {
    Child server = python("mp_listener.py", {family, kKey, "ok"});
    const auto address = server.read_line();
    ASSERT_TRUE(address) << "the Python Listener printed no address";
    Connection conn = mp::Client(Address::parse(*address), AF_UNSPEC, kKey);
    exchange(conn);
    EXPECT_EQ(server.read_line(), "ok");
    EXPECT_EQ(server.wait(), 0);
  }
}

TEST_P(PythonInterop, PythonClientWithAWrongKeyFailsOnBothSides) {
  Listener listener(std::nullopt, AF_UNSPEC, 1, kKey);
  Child client = python("mp_client.py", {listener.address().to_string(), "wrong", "wrong-key"});
  auto accepted = std::async(std::launch::async, [&] { return listener.accept(); });
  if (accepted.wait_for(kPatience) != std::future_status::ready)
    mp::Client(listener.address()).close();
  EXPECT_THROW(accepted.get(), mp::AuthenticationError);
  EXPECT_EQ(client.read_line(), "AuthenticationError");
  EXPECT_EQ(client.wait(), 0);
}

TEST_P(PythonInterop, WeftClientWithAWrongKeyFailsOnBothSides) {
  Child server = python("mp_listener.py", {"tcp", kKey, "wrong-key"});
  const auto address = server.read_line();
  ASSERT_TRUE(address) << "the Python Listener printed no address";
  EXPECT_THROW(mp::Client(Address::parse(*address), AF_UNSPEC, std::string("wrong")),
               mp::AuthenticationError);
  EXPECT_EQ(server.read_line(), "AuthenticationError");
  EXPECT_EQ(server.wait(), 0);
}

INSTANTIATE_TEST_SUITE_P(Cpython, PythonInterop,
                         ::testing::Values(Interpreter{"python3", WEFT_TEST_PYTHON3},
                                           Interpreter{"modern", WEFT_TEST_PYTHON_MODERN}),
                         [](const auto& info) { return info.param.label; });

}  // namespace
