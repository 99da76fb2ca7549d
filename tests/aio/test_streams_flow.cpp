// Flow control and cancellation of streams, on both backends: drain()
// holds a writer back while its peer does not read, a reader stops
// receiving past its limit, and a read, a drain or a connect that is
// cancelled loses no byte and leaks nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "aio/stream_support.hpp"

namespace weft::test {
namespace {

using StreamFlow = StreamTest;
WEFT_STREAM_TEST_SUITE(StreamFlow);

aio::Task<void> drain(aio::StreamWriter writer) { co_await writer.drain(); }

TEST_P(StreamFlow, DrainSuspendsWhileThePeerDoesNotRead) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    limit_socket_buffers(near.writer.fileno());
    limit_socket_buffers(far.writer.fileno());
    const std::string bytes = pattern(4 * 1024 * 1024, 5);
    near.writer.write(bytes);
    auto draining = aio::create_task(drain(near.writer));
    co_await turns(50);
    EXPECT_FALSE(draining.done()) << "drain() returned while the peer read nothing";
    EXPECT_GT(near.writer.get_write_buffer_size(), 64u * 1024);

    std::string received;
    while (received.size() < bytes.size()) {
      received += co_await far.reader.read(4096);
      co_await turns(1);
    }
    EXPECT_EQ(received, bytes);
    co_await draining;
    EXPECT_EQ(near.writer.get_write_buffer_size(), 0u);
  }());
}

TEST_P(StreamFlow, TenMiBThroughASlowReaderNeverOverfillsTheWriteBuffer) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    const std::string bytes = pattern(10 * 1024 * 1024, 6);
    auto writing = aio::create_task([](aio::StreamWriter writer, const std::string& bytes) -> aio::Task<std::size_t> {
      std::size_t most_buffered = 0;
      for (std::size_t at = 0; at < bytes.size(); at += 64 * 1024) {
        writer.write(std::string_view(bytes).substr(at, 64 * 1024));
        co_await writer.drain();
        most_buffered = std::max(most_buffered, writer.get_write_buffer_size());
      }
      writer.close();
      co_await writer.wait_closed();
      co_return most_buffered;
    }(near.writer, bytes));
    std::string received;
    for (;;) {
      std::string piece = co_await far.reader.read(7000);
      if (piece.empty()) break;
      received += piece;
      co_await aio::sleep(0);  // a slow reader: a loop turn per read
    }
    EXPECT_EQ(received.size(), bytes.size());
    EXPECT_TRUE(received == bytes);
    EXPECT_LE(co_await writing, 64u * 1024) << "drain() returned with the buffer over the high-water mark";
  }());
}

TEST_P(StreamFlow, AReaderStopsReceivingPastTwiceItsLimit) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends(4096);
    limit_socket_buffers(near.writer.fileno());
    limit_socket_buffers(far.writer.fileno());
    const std::string bytes = pattern(4 * 1024 * 1024, 7);
    far.writer.write(bytes);
    co_await turns(200);
    // Without flow control the reader's buffer would have taken it all.
    EXPECT_GT(far.writer.get_write_buffer_size(), 2u * 1024 * 1024);
    EXPECT_EQ(co_await near.reader.readexactly(bytes.size()), bytes);
    co_await drain(far.writer);
  }());
}

TEST_P(StreamFlow, ACancelledReadLeavesItsBytesForTheNext) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    auto reading = aio::create_task(near.reader.readexactly(10));
    far.writer.write("01234");
    co_await turns(5);
    EXPECT_FALSE(reading.done());
    reading.cancel();
    EXPECT_THROW(co_await reading, aio::CancelledError);
    far.writer.write("56789");
    EXPECT_EQ(co_await near.reader.readexactly(10), "0123456789");
  }());
}

// Reads seven bytes at a time into `out` until the end of the stream.
aio::Task<void> read_sevens(aio::StreamReader reader, std::string& out) {
  try {
    for (;;) out += co_await reader.readexactly(7);
  } catch (const aio::IncompleteReadError& end) {
    out += end.partial();
  }
}

TEST_P(StreamFlow, ReadsCancelledAtEveryPointLoseNoByte) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    std::string sent, received;
    auto reader = aio::create_task(read_sevens(near.reader, received));
    for (unsigned i = 0; i < 2000; ++i) {
      const std::string piece = pattern(1 + i % 23, i);
      far.writer.write(piece);
      sent += piece;
      if (i % 3 == 0) {
        // The reader may be waiting, woken but not yet run, or just
        // finished a read: a cancellation at any of these loses nothing.
        reader.cancel();
        EXPECT_THROW(co_await reader, aio::CancelledError);
        reader = aio::create_task(read_sevens(near.reader, received));
      }
      co_await turns(i % 2);
    }
    far.writer.write_eof();
    co_await reader;
    EXPECT_EQ(received.size(), sent.size());
    EXPECT_TRUE(received == sent);
  }());
}

TEST_P(StreamFlow, ACancelledDrainLeavesTheBufferToBeSent) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    limit_socket_buffers(near.writer.fileno());
    limit_socket_buffers(far.writer.fileno());
    const std::string bytes = pattern(4 * 1024 * 1024, 8);
    near.writer.write(bytes);
    auto draining = aio::create_task(drain(near.writer));
    co_await turns(10);
    draining.cancel();
    EXPECT_THROW(co_await draining, aio::CancelledError);
    EXPECT_EQ(co_await far.reader.readexactly(bytes.size()), bytes);
    co_await drain(near.writer);
  }());
}

TEST_P(StreamFlow, ACancelledConnectIsAbandonedAndItsSocketClosed) {
  run([]() -> aio::Task<void> {
    // backlog 0 queues one connection; the next one's handshake waits for
    // room that never comes.
    net::Socket listener = net::create_server(net::Address::ipv4("127.0.0.1", 0), 0);
    const std::uint16_t port = listener.getsockname().port();
    auto first = co_await aio::open_connection("127.0.0.1", port);
    auto pending = aio::create_task(aio::open_connection("127.0.0.1", port));
    co_await turns(20);
    EXPECT_FALSE(pending.done()) << "the connect was expected to wait for the backlog";
    pending.cancel();
    EXPECT_THROW(co_await pending, aio::CancelledError);
  }());
}

}  // namespace
}  // namespace weft::test
