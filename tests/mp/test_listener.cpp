// weft::mp::Listener and Client(), and the HMAC challenge: Unix paths, abstract names and TCP;
// keys that match and keys that differ; the legacy (CPython 3.11) and modern forms of the
// handshake; and clients that misbehave — garbage, silence, vanishing halfway — each failing its
// own accept() with a typed error while the next good client is served.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>
#include <weft/mp/authentication.hpp>
#include <weft/mp/errors.hpp>
#include <weft/mp/listener.hpp>
#include <weft/net/errors.hpp>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <tuple>

#include "mp/connection_support.hpp"

namespace {

using namespace weft::test;
namespace mp = weft::mp;
namespace net = weft::net;
using mp::Client;
using mp::Connection;
using mp::Listener;
using net::Address;

using ListenerTest = NetTest;

const std::string kKey = "the shared secret";

// Runs f on another thread; get() rethrows what it threw.
template <class F>
auto in_background(F f) {
  return std::async(std::launch::async, std::move(f));
}

// A client that connects with `key`, exchanges one message each way and checks them.
std::future<void> good_client(const Address& address, std::optional<std::string> key = kKey) {
  return in_background([address, key] {
    Connection conn = Client(address, AF_UNSPEC, key);
    conn.send_bytes("ping");
    if (conn.recv_bytes() != "pong") throw std::runtime_error("wrong reply");
  });
}

void serve_one(Listener& listener) {
  Connection conn = listener.accept();
  EXPECT_EQ(conn.recv_bytes(), "ping");
  conn.send_bytes("pong");
}

bool exists(const std::string& path) {
  struct stat info {};
  return ::lstat(path.c_str(), &info) == 0;
}

TEST_F(ListenerTest, UnixPathListenerServesAClient) {
  TempDir dir;
  const std::string path = dir / "listener";
  Listener listener(Address::unix_path(path));
  EXPECT_EQ(listener.address().path(), path);
  EXPECT_EQ(listener.last_accepted(), std::nullopt);
  EXPECT_TRUE(exists(path));
  auto client = good_client(listener.address(), std::nullopt);
  serve_one(listener);
  client.get();
  ASSERT_TRUE(listener.last_accepted());
  EXPECT_EQ(listener.last_accepted()->family(), AF_UNIX);
  listener.close();
  EXPECT_TRUE(listener.closed());
  EXPECT_FALSE(exists(path)) << "close() left the socket file";
  listener.close();
}

TEST_F(ListenerTest, AddresslessListenerPicksAPrivatePathAndRemovesIt) {
  std::string path;
  {
    Listener listener;
    path = listener.address().path();
    ASSERT_FALSE(path.empty());
    EXPECT_NE(path.front(), '\0');
    EXPECT_TRUE(exists(path));
    Listener other;
    EXPECT_NE(other.address().path(), path);
    auto client = good_client(listener.address(), std::nullopt);
    serve_one(listener);
    client.get();
  }
  EXPECT_FALSE(exists(path));
  EXPECT_FALSE(exists(std::filesystem::path(path).parent_path().string()));
}

TEST_F(ListenerTest, AddresslessListenerWhosePathIsTooLongLeavesNoDirectory) {
  TempDir dir;
  const std::string long_tmpdir = dir / std::string(90, 'd');
  std::filesystem::create_directory(long_tmpdir);
  const char* saved = std::getenv("TMPDIR");
  const std::optional<std::string> previous =
      saved ? std::optional<std::string>(saved) : std::nullopt;
  ::setenv("TMPDIR", long_tmpdir.c_str(), 1);
  EXPECT_THROW(Listener{}, net::OSError);
  if (previous) {
    ::setenv("TMPDIR", previous->c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  EXPECT_TRUE(std::filesystem::is_empty(long_tmpdir)) << "the private directory was left behind";
}

TEST_F(ListenerTest, AbstractNameListener) {
  Listener listener(Address::unix_path(abstract_name()), AF_UNSPEC, 1, kKey);
  auto client = good_client(listener.address());
  serve_one(listener);
  client.get();
}

TEST_F(ListenerTest, TcpListenerOnAChosenPort) {
  Listener listener(Address::ipv4("127.0.0.1", 0), AF_UNSPEC, 5, kKey);
  EXPECT_EQ(listener.address().family(), AF_INET);
  EXPECT_NE(listener.address().port(), 0);
  auto client = good_client(listener.address());
  serve_one(listener);
  client.get();
  EXPECT_EQ(listener.last_accepted()->host(), "127.0.0.1");
  Listener any_port(std::nullopt, AF_INET);
  EXPECT_EQ(any_port.address().host(), "127.0.0.1");
}

TEST_F(ListenerTest, MovedListenerRemovesItsPathOnce) {
  Listener first;
  const std::string path = first.address().path();
  Listener second(std::move(first));
  EXPECT_TRUE(first.closed());
  first.close();
  EXPECT_TRUE(exists(path));
  auto client = good_client(second.address(), std::nullopt);
  serve_one(second);
  client.get();
  second = Listener();
  EXPECT_FALSE(exists(path));
}

TEST_F(ListenerTest, ConstructorRejectsWhatPythonRejects) {
  EXPECT_THROW(Listener(Address::ipv4("127.0.0.1", 0), AF_UNIX), weft::ValueError);
  EXPECT_THROW(Listener(std::nullopt, AF_PACKET), weft::ValueError);
  Listener taken(Address::unix_path(abstract_name()));
  EXPECT_THROW(Listener{taken.address()}, net::OSError);
  EXPECT_THROW(Client(taken.address(), AF_INET), weft::ValueError);
  EXPECT_THROW(taken.set_handshake_timeout(-1s), weft::ValueError);
}

TEST_F(ListenerTest, ClosedListenerRefusesToAccept) {
  Listener listener;
  const Address address = listener.address();
  listener.close();
  try {
    listener.accept();
    ADD_FAILURE() << "accept() on a closed Listener";
  } catch (const net::OSError& error) {
    EXPECT_EQ(std::string(error.what()), "listener is closed");
  }
  EXPECT_THROW(Client(address), net::FileNotFoundError);
  RefusingPort refusing;
  EXPECT_THROW(Client(refusing.address), net::ConnectionRefusedError);
}

TEST_F(ListenerTest, WrongKeyFailsBothSidesAndTheNextClientIsServed) {
  Listener listener(std::nullopt, AF_UNSPEC, 5, kKey);
  auto wrong = in_background([&] { Client(listener.address(), AF_UNSPEC, std::string("wrong")); });
  EXPECT_THROW(listener.accept(), mp::AuthenticationError);
  EXPECT_THROW(wrong.get(), mp::AuthenticationError);
  auto keyless = in_background([&] {
    Connection conn = Client(listener.address());
    conn.send_bytes("hello");
    std::string received = conn.recv_bytes();
    return received + conn.recv_bytes();
  });
  EXPECT_THROW(listener.accept(), mp::AuthenticationError);
  const std::string received = keyless.get();
  EXPECT_TRUE(received.starts_with("#CHALLENGE#"));
  EXPECT_TRUE(received.ends_with("#FAILURE#"));
  auto client = good_client(listener.address());
  serve_one(listener);
  client.get();
}

TEST_F(ListenerTest, EmptyKeyListenerAuthenticatesNothingAsPythonDoes) {
  Listener listener(std::nullopt, AF_UNSPEC, 1, std::string());
  auto client = good_client(listener.address(), std::nullopt);
  serve_one(listener);
  client.get();
}

TEST_F(ListenerTest, ClientWithAKeyRejectsAListenerWithout) {
  Listener listener;
  auto client = in_background([&] { Client(listener.address(), AF_UNSPEC, kKey); });
  Connection conn = listener.accept();
  conn.send_bytes("not a challenge");
  EXPECT_THROW(client.get(), mp::AuthenticationError);
}

// A raw client: a stream socket connected to the listener, speaking whatever a test makes it.
net::Socket raw_client(const Listener& listener) {
  net::Socket sock(AF_UNIX, SOCK_STREAM);
  sock.connect(listener.address());
  sock.setblocking(true);
  return sock;
}

// Reads exactly `size` bytes from a raw socket.
std::string read_exactly(net::Socket& sock, std::size_t size) {
  std::string data;
  while (data.size() < size) {
    const std::string more = sock.recv(size - data.size());
    if (more.empty()) throw std::runtime_error("the Listener closed the connection");
    data += more;
  }
  return data;
}

// Reads one frame from a raw socket.
std::string read_frame(net::Socket& sock) {
  std::size_t size = 0;
  for (const char c : read_exactly(sock, 4)) size = size << 8 | static_cast<unsigned char>(c);
  return read_exactly(sock, size);
}

class MisbehavingClient : public ListenerTest {
 protected:
  Listener listener{std::nullopt, AF_UNSPEC, 5, kKey};

  void SetUp() override {
    ListenerTest::SetUp();
    listener.set_handshake_timeout(500ms);
  }

  // The Listener still serves a good client after the bad one.
  void expect_next_client_served() {
    auto client = good_client(listener.address());
    serve_one(listener);
    client.get();
  }
};

TEST_F(MisbehavingClient, GarbageIsAnAuthenticationError) {
  net::Socket sock = raw_client(listener);
  sock.sendall("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
  try {
    listener.accept();
    ADD_FAILURE() << "garbage accepted";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_NE(std::string(error.what()).find("bad message length"), std::string::npos);
  }
  expect_next_client_served();
}

TEST_F(MisbehavingClient, SilenceIsATimeoutError) {
  net::Socket sock = raw_client(listener);
  Stopwatch watch;
  EXPECT_THROW(listener.accept(), weft::TimeoutError);
  EXPECT_TRUE(expired_after(watch.elapsed(), 500ms));
  expect_next_client_served();
}

TEST_F(MisbehavingClient, SilenceAfterTheChallengeIsATimeoutError) {
  net::Socket sock = raw_client(listener);
  auto accepted = in_background([&] { return listener.accept(); });
  EXPECT_TRUE(read_frame(sock).starts_with("#CHALLENGE#{sha256}"));
  EXPECT_THROW(accepted.get(), weft::TimeoutError);
  expect_next_client_served();
}

TEST_F(MisbehavingClient, VanishingAtOnceIsAnEofError) {
  raw_client(listener).close();
  EXPECT_THROW(listener.accept(), weft::EOFError);
  expect_next_client_served();
}

TEST_F(MisbehavingClient, TruncatedAnswerIsAnEofError) {
  net::Socket sock = raw_client(listener);
  auto accepted = in_background([&] { return listener.accept(); });
  read_frame(sock);
  sock.sendall(be32(40) + "{sha256}");
  sock.close();
  EXPECT_THROW(accepted.get(), weft::EOFError);
  expect_next_client_served();
}

TEST_F(MisbehavingClient, OversizedAnswerIsAnAuthenticationError) {
  net::Socket sock = raw_client(listener);
  auto accepted = in_background([&] { return listener.accept(); });
  read_frame(sock);
  sock.sendall(be32(257));
  EXPECT_THROW(accepted.get(), mp::AuthenticationError);
  expect_next_client_served();
}

TEST_F(MisbehavingClient, AnswerOfNoKnownFormIsAnAuthenticationError) {
  net::Socket sock = raw_client(listener);
  auto accepted = in_background([&] { return listener.accept(); });
  read_frame(sock);
  sock.sendall(be32(30) + std::string(30, 'x'));
  try {
    accepted.get();
    ADD_FAILURE() << "answer accepted";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_TRUE(std::string(error.what()).starts_with("unsupported message length"));
  }
  EXPECT_EQ(read_frame(sock), "#FAILURE#");
  expect_next_client_served();
}

TEST_F(MisbehavingClient, UnansweredCounterChallengeIsATimeoutError) {
  // A client that passes the Listener's challenge but never challenges it back.
  net::Socket sock = raw_client(listener);
  auto accepted = in_background([&] { return listener.accept(); });
  auto conn = Connection(sock.detach());
  mp::answer_challenge(conn, kKey);
  EXPECT_THROW(accepted.get(), weft::TimeoutError);
  expect_next_client_served();
}

TEST_F(ListenerTest, NoHandshakeTimeoutWaitsAsPythonDoes) {
  Listener listener(std::nullopt, AF_UNSPEC, 1, kKey);
  listener.set_handshake_timeout(std::nullopt);
  EXPECT_EQ(listener.handshake_timeout(), std::nullopt);
  Listener defaulted;
  EXPECT_EQ(defaulted.handshake_timeout(), Listener::kDefaultHandshakeTimeout);
  auto client = good_client(listener.address());
  serve_one(listener);
  client.get();
}

std::string hmac_of(const EVP_MD* md, std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  ::HMAC(md, key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

class Handshake : public ListenerTest {
 protected:
  void SetUp() override {
    ListenerTest::SetUp();
    std::tie(ours, peer) = mp::Pipe();
  }
  void TearDown() override {
    ours.close();
    peer.close();
    ListenerTest::TearDown();
  }

  Connection ours;
  Connection peer;
};

TEST_F(Handshake, ModernChallengeIsAnsweredWithItsDigest) {
  for (const std::string digest : {"md5", "sha256", "sha384", "sha3_256", "sha3_384"}) {
    auto [server, client] = mp::Pipe();
    auto answered = in_background([&client = client] { mp::answer_challenge(client, kKey); });
    mp::deliver_challenge(server, kKey, digest);
    answered.get();
  }
  EXPECT_THROW(mp::deliver_challenge(ours, kKey, "sha1"), weft::ValueError);
}

TEST_F(Handshake, ModernChallengeOnTheWire) {
  const std::string message = "{sha256}" + std::string(40, '\x07');
  peer.send_bytes("#CHALLENGE#" + message);
  peer.send_bytes("#WELCOME#");
  mp::answer_challenge(ours, kKey);
  EXPECT_EQ(peer.recv_bytes(), "{sha256}" + hmac_of(EVP_sha256(), kKey, message));
}

TEST_F(Handshake, LegacyChallengeIsAnsweredWithABareMd5) {
  // What CPython 3.11's deliver_challenge sends: 20 random bytes, no digest prefix.
  const std::string message(20, '\x2a');
  peer.send_bytes("#CHALLENGE#" + message);
  peer.send_bytes("#WELCOME#");
  mp::answer_challenge(ours, kKey);
  EXPECT_EQ(peer.recv_bytes(), hmac_of(EVP_md5(), kKey, message));
}

TEST_F(Handshake, LegacyAnswerIsAccepted) {
  // What CPython 3.11's answer_challenge sends: a bare HMAC-MD5 of the whole challenge.
  auto delivered = in_background([this] { mp::deliver_challenge(ours, kKey); });
  const std::string challenge = peer.recv_bytes();
  ASSERT_TRUE(challenge.starts_with("#CHALLENGE#{sha256}"));
  EXPECT_EQ(challenge.size(), 11u + 8u + 40u);
  peer.send_bytes(hmac_of(EVP_md5(), kKey, challenge.substr(11)));
  EXPECT_EQ(peer.recv_bytes(), "#WELCOME#");
  delivered.get();
}

TEST_F(Handshake, WrongDigestIsRejectedWithFailure) {
  auto delivered = in_background([this] { mp::deliver_challenge(ours, kKey); });
  const std::string challenge = peer.recv_bytes();
  peer.send_bytes("{sha256}" + hmac_of(EVP_sha256(), "other key", challenge.substr(11)));
  EXPECT_EQ(peer.recv_bytes(), "#FAILURE#");
  try {
    delivered.get();
    ADD_FAILURE() << "wrong digest accepted";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_EQ(std::string(error.what()), "digest received was wrong");
  }
}

TEST_F(Handshake, WrongAnswerFromAPeerThatLeftIsStillAnAuthenticationError) {
  auto delivered = in_background([this] { mp::deliver_challenge(ours, kKey); });
  peer.recv_bytes();
  peer.send_bytes("{sha256}" + std::string(32, 'x'));
  peer.close();
  EXPECT_THROW(delivered.get(), mp::AuthenticationError);
}

TEST_F(Handshake, AnswerOfTheWrongLengthIsRejected) {
  auto delivered = in_background([this] { mp::deliver_challenge(ours, kKey); });
  peer.recv_bytes();
  peer.send_bytes("{sha256}" + std::string(31, 'x'));
  EXPECT_EQ(peer.recv_bytes(), "#FAILURE#");
  try {
    delivered.get();
    ADD_FAILURE() << "short digest accepted";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_EQ(std::string(error.what()), "expected 'sha256' of length 32 got 31");
  }
}

TEST_F(Handshake, NotAChallengeIsAProtocolError) {
  peer.send_bytes("hello\x01'");
  try {
    mp::answer_challenge(ours, kKey);
    ADD_FAILURE() << "not a challenge, answered";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_EQ(std::string(error.what()),
              "Protocol error, expected challenge: message=b\"hello\\x01'\"");
  }
}

TEST_F(Handshake, ShortChallengeIsRejected) {
  peer.send_bytes("#CHALLENGE#" + std::string(19, 'x'));
  try {
    mp::answer_challenge(ours, kKey);
    ADD_FAILURE() << "short challenge answered";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_EQ(std::string(error.what()), "challenge too short: 19 bytes");
  }
}

TEST_F(Handshake, UnsupportedDigestIsRejected) {
  peer.send_bytes("#CHALLENGE#{sha1}" + std::string(40, 'x'));
  EXPECT_THROW(mp::answer_challenge(ours, kKey), mp::AuthenticationError);
  peer.send_bytes("#CHALLENGE#" + std::string(40, 'x'));
  EXPECT_THROW(mp::answer_challenge(ours, kKey), mp::AuthenticationError);
}

TEST_F(Handshake, FailureReplyIsDigestSentWasRejected) {
  peer.send_bytes("#CHALLENGE#" + std::string(20, 'x'));
  peer.send_bytes("#FAILURE#");
  try {
    mp::answer_challenge(ours, kKey);
    ADD_FAILURE() << "failure ignored";
  } catch (const mp::AuthenticationError& error) {
    EXPECT_EQ(std::string(error.what()), "digest sent was rejected");
  }
}

TEST_F(Handshake, OversizedHandshakeMessageIsABadMessageLength) {
  peer.send_bytes("#CHALLENGE#" + std::string(246, 'x'));
  EXPECT_THROW(mp::answer_challenge(ours, kKey), net::OSError);
}

TEST_F(Handshake, EmptyKeyWorks) {
  auto answered = in_background([this] { mp::answer_challenge(peer, ""); });
  mp::deliver_challenge(ours, "");
  answered.get();
}

}  // namespace
