// weft::mp::Connection and Pipe() in one process: messages both ways, values through the codec,
// ranges, maxlength, recv_bytes_into and BufferTooShort, poll, closing, end of file, and every
// malformed frame a peer can send.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <weft/mp/connection.hpp>
#include <weft/mp/errors.hpp>
#include <weft/net/errors.hpp>

#include <cerrno>
#include <cstddef>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "mp/connection_support.hpp"

namespace {

using namespace weft::test;
namespace mp = weft::mp;
namespace net = weft::net;
using mp::Connection;
using mp::Pipe;

using ConnectionTest = NetTest;

// Expects `call` to throw net::OSError with exactly `message` and `code`.
template <class Call>
void expect_os_error(Call call, const std::string& message, std::errc code) {
  try {
    call();
    ADD_FAILURE() << "no OSError(" << message << ")";
  } catch (const net::OSError& error) {
    EXPECT_EQ(std::string(error.what()), message);
    EXPECT_EQ(error.code(), code);
  }
}

TEST_F(ConnectionTest, DuplexPipeCarriesMessagesBothWays) {
  auto [a, b] = Pipe();
  EXPECT_TRUE(a.readable() && a.writable() && b.readable() && b.writable());
  EXPECT_FALSE(a.closed());
  EXPECT_NE(a.fileno(), b.fileno());
  EXPECT_NE(::fcntl(a.fileno(), F_GETFD) & FD_CLOEXEC, 0);
  EXPECT_NE(::fcntl(b.fileno(), F_GETFD) & FD_CLOEXEC, 0);
  a.send_bytes("hello");
  b.send_bytes(std::string("world"));
  EXPECT_EQ(b.recv_bytes(), "hello");
  EXPECT_EQ(a.recv_bytes(), "world");
}

TEST_F(ConnectionTest, OneWayPipeHasAReadEndAndAWriteEnd) {
  auto [reader, writer] = Pipe(false);
  EXPECT_TRUE(reader.readable());
  EXPECT_FALSE(reader.writable());
  EXPECT_FALSE(writer.readable());
  EXPECT_TRUE(writer.writable());
  writer.send_bytes("one way");
  EXPECT_EQ(reader.recv_bytes(), "one way");
  const auto read_only = std::errc::bad_file_descriptor;
  expect_os_error([&] { reader.send_bytes("x"); }, "connection is read-only", read_only);
  expect_os_error([&] { reader.send(1); }, "connection is read-only", read_only);
  expect_os_error([&] { writer.recv_bytes(); }, "connection is write-only", read_only);
  expect_os_error([&] { writer.recv<int>(); }, "connection is write-only", read_only);
  expect_os_error([&] { writer.poll(); }, "connection is write-only", read_only);
  std::byte buffer[4];
  expect_os_error([&] { writer.recv_bytes_into(buffer); }, "connection is write-only",
                  read_only);
}

TEST_F(ConnectionTest, AdoptingADescriptorChecksItsArguments) {
  EXPECT_THROW(Connection(-1), weft::ValueError);
  const int fd = ::dup(STDERR_FILENO);
  EXPECT_THROW(Connection(fd, false, false), weft::ValueError);
  Connection adopted(fd, false, true);
  EXPECT_EQ(adopted.fileno(), fd);
  EXPECT_FALSE(adopted.readable());
}

TEST_F(ConnectionTest, EmptyMessagesAreMessages) {
  auto [a, b] = Pipe();
  a.send_bytes("");
  a.send_bytes("after");
  EXPECT_TRUE(b.poll());
  EXPECT_EQ(b.recv_bytes(), "");
  EXPECT_EQ(b.recv_bytes(), "after");
}

TEST_F(ConnectionTest, SendBytesTakesAnOffsetAndASize) {
  auto [a, b] = Pipe();
  const std::string data = "0123456789";
  a.send_bytes(data, 3);
  a.send_bytes(data, 2, 4);
  a.send_bytes(data, 10);
  a.send_bytes(data, 4, 6);
  const std::vector<std::byte> raw = {std::byte{1}, std::byte{2}, std::byte{3}};
  a.send_bytes(raw, 1);
  EXPECT_EQ(b.recv_bytes(), "3456789");
  EXPECT_EQ(b.recv_bytes(), "2345");
  EXPECT_EQ(b.recv_bytes(), "");
  EXPECT_EQ(b.recv_bytes(), "456789");
  EXPECT_EQ(b.recv_bytes(), "\x02\x03");
  EXPECT_THROW(a.send_bytes(data, 11), weft::ValueError);
  EXPECT_THROW(a.send_bytes(data, 4, 7), weft::ValueError);
  EXPECT_THROW(a.send_bytes(data, 0, 11), weft::ValueError);
  EXPECT_FALSE(b.poll()) << "a rejected range sent something";
}

TEST_F(ConnectionTest, ValuesTravelThroughTheCodec) {
  auto [a, b] = Pipe();
  a.send(42);
  a.send(std::string("text"));
  a.send(std::vector<int>{1, 2, 3});
  a.send(std::tuple<int, std::string, bool>(7, "seven", true));
  a.send(std::map<std::string, double>{{"pi", 3.25}});
  EXPECT_EQ(b.recv<int>(), 42);
  EXPECT_EQ(b.recv<std::string>(), "text");
  EXPECT_EQ(b.recv<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ((b.recv<std::tuple<int, std::string, bool>>()),
            (std::tuple<int, std::string, bool>(7, "seven", true)));
  EXPECT_EQ((b.recv<std::map<std::string, double>>()),
            (std::map<std::string, double>{{"pi", 3.25}}));
}

TEST_F(ConnectionTest, UndecodableMessageIsADecodeErrorAndIsConsumed) {
  auto [a, b] = Pipe();
  a.send(std::string("not an int"));
  a.send_bytes("\xc1");  // never valid MessagePack
  a.send(5);
  EXPECT_THROW(b.recv<int>(), weft::codec::DecodeError);
  EXPECT_THROW(b.recv<int>(), weft::codec::DecodeError);
  EXPECT_EQ(b.recv<int>(), 5);
}

TEST_F(ConnectionTest, MessageOverMaxlengthIsABadMessageLength) {
  auto [a, b] = Pipe();
  a.send_bytes("12345");
  a.send_bytes("12345");
  EXPECT_EQ(b.recv_bytes(5), "12345");
  expect_os_error([&] { b.recv_bytes(4); }, "bad message length", std::errc::message_size);
  // As in Python, a duplex end stops being readable but can still send.
  EXPECT_FALSE(b.readable());
  EXPECT_FALSE(b.closed());
  expect_os_error([&] { b.recv_bytes(); }, "connection is write-only",
                  std::errc::bad_file_descriptor);
  b.send_bytes("still writable");
  EXPECT_EQ(a.recv_bytes(), "still writable");
}

TEST_F(ConnectionTest, BadLengthClosesAReadOnlyEnd) {
  auto [reader, writer] = Pipe(false);
  writer.send_bytes("too long");
  EXPECT_THROW(reader.recv_bytes(3), net::OSError);
  EXPECT_TRUE(reader.closed());
}

TEST_F(ConnectionTest, RecvBytesIntoFillsFromTheOffset) {
  auto [a, b] = Pipe();
  a.send_bytes("abc");
  a.send_bytes("");
  std::vector<char> buffer(6, '.');
  EXPECT_EQ(b.recv_bytes_into(std::span(buffer), 2), 3u);
  EXPECT_EQ(std::string(buffer.begin(), buffer.end()), "..abc.");
  EXPECT_EQ(b.recv_bytes_into(std::span(buffer), 6), 0u);
  EXPECT_THROW(b.recv_bytes_into(std::span(buffer), 7), weft::ValueError);
}

TEST_F(ConnectionTest, RecvBytesIntoATooSmallBufferThrowsTheWholeMessage) {
  auto [a, b] = Pipe();
  a.send_bytes("a message of 26 characters");
  a.send_bytes("next");
  std::byte buffer[30];
  try {
    b.recv_bytes_into(buffer, 5);
    ADD_FAILURE() << "no BufferTooShort";
  } catch (const mp::BufferTooShort& error) {
    EXPECT_EQ(error.message(), "a message of 26 characters");
  }
  EXPECT_EQ(b.recv_bytes(), "next") << "the stream lost its framing";
}

TEST_F(ConnectionTest, PollReportsWhetherAMessageIsWaiting) {
  auto [a, b] = Pipe();
  EXPECT_FALSE(b.poll());
  Stopwatch watch;
  EXPECT_FALSE(b.poll(kTick));
  EXPECT_TRUE(expired_after(watch.elapsed(), kTick));
  EXPECT_FALSE(b.poll(-1s)) << "a negative timeout counts as 0";
  a.send_bytes("ready");
  EXPECT_TRUE(b.poll());
  EXPECT_TRUE(b.poll(kTick));
  EXPECT_TRUE(b.poll(std::nullopt));
  EXPECT_EQ(b.recv_bytes(), "ready");
}

TEST_F(ConnectionTest, PollWithoutTimeoutWaitsForAMessage) {
  auto [a, b] = Pipe();
  std::thread sender([&a] { a.send_bytes("later"); });
  EXPECT_TRUE(b.poll(std::nullopt));
  sender.join();
  EXPECT_EQ(b.recv_bytes(), "later");
}

TEST_F(ConnectionTest, PollIsTrueAtEndOfFile) {
  auto [a, b] = Pipe();
  a.close();
  EXPECT_TRUE(b.poll());
  EXPECT_THROW(b.recv_bytes(), weft::EOFError);
}

TEST_F(ConnectionTest, EveryCallOnAClosedConnectionSaysHandleIsClosed) {
  auto [a, b] = Pipe();
  a.close();
  EXPECT_TRUE(a.closed());
  a.close();
  EXPECT_TRUE(a.readable()) << "Python keeps the flags of a closed connection";
  const auto ebadf = std::errc::bad_file_descriptor;
  std::byte buffer[4];
  expect_os_error([&] { a.fileno(); }, "handle is closed", ebadf);
  expect_os_error([&] { a.send_bytes("x"); }, "handle is closed", ebadf);
  expect_os_error([&] { a.send(1); }, "handle is closed", ebadf);
  expect_os_error([&] { a.recv_bytes(); }, "handle is closed", ebadf);
  expect_os_error([&] { a.recv<int>(); }, "handle is closed", ebadf);
  expect_os_error([&] { a.recv_bytes_into(buffer); }, "handle is closed", ebadf);
  expect_os_error([&] { a.poll(); }, "handle is closed", ebadf);
  expect_os_error([&] { a.poll(kTick); }, "handle is closed", ebadf);
  expect_os_error([&] { a.poll(std::nullopt); }, "handle is closed", ebadf);
}

TEST_F(ConnectionTest, MovingHandsTheDescriptorOver) {
  auto [a, b] = Pipe();
  const int fd = a.fileno();
  Connection moved(std::move(a));
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(a.readable() || a.writable());
  EXPECT_EQ(moved.fileno(), fd);
  Connection other;
  EXPECT_TRUE(other.closed());
  other = std::move(moved);
  EXPECT_EQ(other.fileno(), fd);
  other.send_bytes("moved");
  EXPECT_EQ(b.recv_bytes(), "moved");
}

TEST_F(ConnectionTest, ReadingFromAClosedPeerIsEofError) {
  auto [a, b] = Pipe();
  a.send_bytes("last");
  a.close();
  EXPECT_EQ(b.recv_bytes(), "last");
  EXPECT_THROW(b.recv_bytes(), weft::EOFError);
  std::byte buffer[4];
  EXPECT_THROW(b.recv_bytes_into(buffer), weft::EOFError);
  EXPECT_THROW(b.recv<int>(), weft::EOFError);

  auto [reader, writer] = Pipe(false);
  writer.close();
  EXPECT_THROW(reader.recv_bytes(), weft::EOFError);
}

TEST_F(ConnectionTest, WritingToAClosedPeerIsBrokenPipeWithoutSigpipe) {
  auto [a, b] = Pipe();
  b.close();
  EXPECT_THROW(a.send_bytes("nobody listens"), net::BrokenPipeError);
  auto [reader, writer] = Pipe(false);
  reader.close();
  EXPECT_THROW(writer.send_bytes("nobody listens"), net::BrokenPipeError);
  EXPECT_THROW(writer.send(1), net::BrokenPipeError);
}

// A malformed frame written past the framing gives a typed error.
class MalformedFrame : public ConnectionTest {
 protected:
  void SetUp() override {
    ConnectionTest::SetUp();
    std::tie(conn, peer) = Pipe();
  }
  void TearDown() override {
    conn.close();
    peer.close();
    ConnectionTest::TearDown();
  }
  void peer_writes(std::string_view bytes) { write_raw(peer.fileno(), bytes); }
  void peer_leaves() { peer.close(); }

  Connection conn;
  Connection peer;
};

TEST_F(MalformedFrame, NegativeLengthIsABadMessageLength) {
  peer_writes(be32(0xfffffffeu) + "xx");
  expect_os_error([&] { conn.recv_bytes(); }, "bad message length", std::errc::message_size);
}

TEST_F(MalformedFrame, MostNegativeLengthIsABadMessageLength) {
  peer_writes(be32(0x80000000u));
  EXPECT_THROW(conn.recv_bytes(), net::OSError);
}

TEST_F(MalformedFrame, TruncatedHeaderIsEndOfFileDuringMessage) {
  peer_writes(std::string(2, '\0'));
  peer_leaves();
  expect_os_error([&] { conn.recv_bytes(); }, "got end of file during message",
                  std::errc::protocol_error);
}

TEST_F(MalformedFrame, HeaderWithoutPayloadIsEndOfFileDuringMessage) {
  peer_writes(be32(10));
  peer_leaves();
  EXPECT_THROW(conn.recv_bytes(), net::OSError);
}

TEST_F(MalformedFrame, TruncatedPayloadIsEndOfFileDuringMessage) {
  peer_writes(be32(10) + "abc");
  peer_leaves();
  expect_os_error([&] { conn.recv_bytes(); }, "got end of file during message",
                  std::errc::protocol_error);
}

TEST_F(MalformedFrame, TruncatedPayloadIntoABufferIsEndOfFileDuringMessage) {
  peer_writes(be32(10) + "abc");
  peer_leaves();
  std::byte buffer[16];
  EXPECT_THROW(conn.recv_bytes_into(buffer), net::OSError);
}

TEST_F(MalformedFrame, TruncatedLargeHeaderIsEndOfFileDuringMessage) {
  peer_writes(be32(0xffffffffu) + std::string(3, '\0'));
  peer_leaves();
  expect_os_error([&] { conn.recv_bytes(); }, "got end of file during message",
                  std::errc::protocol_error);
}

TEST_F(MalformedFrame, LargeFormIsReadWhateverItsLength) {
  // Python reads the 8-byte form for any length, though it writes it only above 0x7fffffff.
  peer_writes(large_header(5) + "large" + large_header(0));
  EXPECT_EQ(conn.recv_bytes(), "large");
  EXPECT_EQ(conn.recv_bytes(), "");
}

TEST_F(MalformedFrame, LargeFormBeyondMaxlengthIsABadMessageLength) {
  peer_writes(large_header(std::uint64_t{3} << 30));
  expect_os_error([&] { conn.recv_bytes(1 << 20); }, "bad message length",
                  std::errc::message_size);
}

TEST_F(MalformedFrame, LargeFormBeyondMemoryIsABadMessageLength) {
  peer_writes(large_header(~std::uint64_t{0}));
  expect_os_error([&] { conn.recv_bytes(); }, "bad message length", std::errc::message_size);
}

long max_rss_kib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST_F(MalformedFrame, HostileLengthAllocatesNothingBeforeItsBytesArrive) {
  const long before = max_rss_kib();
  peer_writes(large_header(std::uint64_t{3} << 30) + "only a few bytes");
  peer_leaves();
  EXPECT_THROW(conn.recv_bytes(), net::OSError);
  EXPECT_LT(max_rss_kib() - before, 64 * 1024) << "a 3 GiB claim was believed";
}

TEST_F(MalformedFrame, HostileShortLengthAllocatesNothingBeforeItsBytesArrive) {
  const long before = max_rss_kib();
  peer_writes(be32(0x7fffffff) + "a few bytes");
  peer_leaves();
  EXPECT_THROW(conn.recv_bytes(), net::OSError);
  EXPECT_LT(max_rss_kib() - before, 64 * 1024) << "a 2 GiB claim was believed";
}

std::string pattern(std::size_t size) {
  std::string data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 131 + i / 4093);
  return data;
}

TEST_F(ConnectionTest, MessagesOverSixteenMebibytesArriveWhole) {
  const std::string big = pattern((std::size_t{17} << 20) + 3);
  for (const bool duplex : {true, false}) {
    auto [reader, writer] = Pipe(duplex);
    auto sent = std::async(std::launch::async, [&writer = writer, &big] {
      writer.send_bytes(big);
      writer.send_bytes(big);
      writer.send(big);
    });
    EXPECT_EQ(reader.recv_bytes(), big);
    std::string buffer(big.size() + 1, '.');
    EXPECT_EQ(reader.recv_bytes_into(std::span(buffer), 1), big.size());
    EXPECT_EQ(std::string_view(buffer).substr(1), big);
    EXPECT_EQ(reader.recv<std::string>(), big);
    sent.get();
  }
}

}  // namespace
