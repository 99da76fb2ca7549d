// StreamReader and StreamWriter over loopback TCP, on both backends: what
// each read returns and throws at its edges (separators split across
// arrivals, the limit, the end of the stream), iterating lines,
// half-closes, addresses, and connecting.
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "aio/co_assert.hpp"
#include "aio/stream_support.hpp"

namespace weft::test {
namespace {

using Streams = StreamTest;
WEFT_STREAM_TEST_SUITE(Streams);

TEST_P(Streams, ReadReturnsWhatIsBufferedUpToN) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    far.writer.write("hello world");
    EXPECT_EQ(co_await near.reader.read(5), "hello");
    EXPECT_EQ(co_await near.reader.read(100), " world");
    EXPECT_EQ(co_await near.reader.read(0), "");
    far.writer.write("more");
    far.writer.close();
    EXPECT_EQ(co_await near.reader.read(), "more");  // read(-1): up to the end of the stream
    EXPECT_EQ(co_await near.reader.read(10), "");
    EXPECT_TRUE(near.reader.at_eof());
    co_await far.writer.wait_closed();
  }());
}

TEST_P(Streams, ReadAllCollectsEveryArrivalUntilTheEnd) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends(1024);
    auto reading = aio::create_task(near.reader.read());
    const std::string bytes = pattern(256 * 1024, 1);  // far past the limit: read(-1) is not held back
    for (std::size_t at = 0; at < bytes.size(); at += 10000) {
      far.writer.write(std::string_view(bytes).substr(at, 10000));
      co_await far.writer.drain();
    }
    far.writer.write_eof();
    EXPECT_EQ(co_await reading, bytes);
  }());
}

TEST_P(Streams, ReadlineSplitsLinesAndReturnsTheRestAtTheEnd) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    far.writer.write("one\ntwo\nthr");
    EXPECT_EQ(co_await near.reader.readline(), "one\n");
    EXPECT_EQ(co_await near.reader.readline(), "two\n");
    auto third = aio::create_task(near.reader.readline());
    co_await turns(3);
    EXPECT_FALSE(third.done()) << "readline returned before its separator came";
    far.writer.write("ee\nfour");
    EXPECT_EQ(co_await third, "three\n");
    far.writer.write_eof();
    EXPECT_EQ(co_await near.reader.readline(), "four");
    EXPECT_EQ(co_await near.reader.readline(), "");
    EXPECT_TRUE(near.reader.at_eof());
  }());
}

TEST_P(Streams, ReaduntilFindsASeparatorSplitAcrossArrivals) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    auto reading = aio::create_task(near.reader.readuntil("\r\n\r\n"));
    far.writer.write("GET / HTTP/1.1\r\n");
    co_await far.writer.drain();
    co_await turns(3);
    far.writer.write("Host: x\r");
    co_await turns(3);
    EXPECT_FALSE(reading.done());
    far.writer.write("\n\r");
    co_await turns(3);
    EXPECT_FALSE(reading.done());
    far.writer.write("\nbody");
    EXPECT_EQ(co_await reading, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(co_await near.reader.read(4), "body");
    EXPECT_THROW((void)near.reader.readuntil(""), ValueError);
  }());
}

TEST_P(Streams, ReaduntilAtTheEndThrowsIncompleteReadWithTheRest) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    far.writer.write("no separator here");
    far.writer.write_eof();
    try {
      co_await near.reader.readuntil("!");
      ADD_FAILURE() << "readuntil returned without its separator";
    } catch (const aio::IncompleteReadError& error) {
      EXPECT_EQ(error.partial(), "no separator here");
      EXPECT_FALSE(error.expected().has_value());
      EXPECT_STREQ(error.what(), "17 bytes read on a total of None expected bytes");
    }
    EXPECT_TRUE(near.reader.at_eof());
  }());
}

TEST_P(Streams, ReaduntilPastTheLimitThrowsLimitOverrunAndKeepsTheBytes) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends(16);
    const std::string long_chunk(40, 'x');
    far.writer.write(long_chunk);
    try {
      co_await near.reader.readuntil("\n");
      ADD_FAILURE() << "no LimitOverrunError";
    } catch (const aio::LimitOverrunError& error) {
      EXPECT_STREQ(error.what(), "Separator is not found, and chunk exceed the limit");
      EXPECT_GT(error.consumed(), 16u);
    }
    EXPECT_EQ(co_await near.reader.readexactly(40), long_chunk);

    far.writer.write(std::string(30, 'y') + "\nz");
    try {
      co_await near.reader.readuntil("\n");
      ADD_FAILURE() << "no LimitOverrunError";
    } catch (const aio::LimitOverrunError& error) {
      EXPECT_STREQ(error.what(), "Separator is found, but chunk is longer than limit");
      EXPECT_EQ(error.consumed(), 30u);
    }
    EXPECT_EQ(co_await near.reader.readexactly(32), std::string(30, 'y') + "\nz");
  }());
}

TEST_P(Streams, ReadlineDropsALineLongerThanTheLimit) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends(16);
    far.writer.write(std::string(30, 'a') + "\nshort\n");
    EXPECT_THROW(co_await near.reader.readline(), ValueError);
    EXPECT_EQ(co_await near.reader.readline(), "short\n");
    far.writer.write(std::string(40, 'b'));  // no separator yet: the buffer is dropped
    EXPECT_THROW(co_await near.reader.readline(), ValueError);
    far.writer.write("tail\n");
    EXPECT_EQ(co_await near.reader.readline(), "tail\n");
  }());
}

// Python's `async for line in reader`.
TEST_P(Streams, LinesIteratesTheStreamLineByLineToItsEnd) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    auto lines = near.reader.lines();
    far.writer.write("one\ntwo\nthr");
    EXPECT_EQ(co_await lines.anext(), "one\n");
    // Starts once the generator waits for "three\n", in its body's await.
    auto writing = aio::create_task([](aio::StreamWriter writer) -> aio::Task<void> {
      writer.write("ee\nfour");
      writer.write_eof();
      co_return;
    }(far.writer));
    std::vector<std::string> rest;
    while (auto line = co_await lines.try_anext()) rest.push_back(std::move(*line));
    EXPECT_EQ(rest, (std::vector<std::string>{"two\n", "three\n", "four"}));
    EXPECT_THROW(co_await lines.anext(), aio::StopAsyncIteration);
    EXPECT_TRUE(near.reader.at_eof());
    co_await writing;
  }());
}

TEST_P(Streams, LinesCancelledWhileWaitingEndsAndLeavesTheBytesBuffered) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    auto lines = near.reader.lines();
    auto first = aio::create_task([](aio::AsyncGenerator<std::string>& lines) -> aio::Task<std::string> {
      co_return co_await lines.anext();
    }(lines));
    far.writer.write("par");
    co_await turns(3);
    EXPECT_FALSE(first.done()) << "a line came before its separator";
    EXPECT_EQ(lines.state(), aio::AsyncGeneratorState::AGEN_RUNNING);
    first.cancel();
    EXPECT_THROW(co_await first, aio::CancelledError);
    EXPECT_EQ(lines.state(), aio::AsyncGeneratorState::AGEN_CLOSED);
    far.writer.write("tial\n");
    auto again = near.reader.lines();
    EXPECT_EQ(co_await again.anext(), "partial\n");
  }());
}

TEST_P(Streams, ReadexactlyWaitsForAllOrThrowsIncompleteRead) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends(1024);
    const std::string big = pattern(100 * 1024, 2);  // more than twice the limit: flow control lets it in
    auto reading = aio::create_task(near.reader.readexactly(big.size()));
    far.writer.write(big);
    co_await far.writer.drain();
    EXPECT_EQ(co_await reading, big);
    EXPECT_EQ(co_await near.reader.readexactly(0), "");

    far.writer.write("abc");
    far.writer.write_eof();
    try {
      co_await near.reader.readexactly(5);
      ADD_FAILURE() << "readexactly returned short";
    } catch (const aio::IncompleteReadError& error) {
      EXPECT_EQ(error.partial(), "abc");
      EXPECT_EQ(error.expected(), 5u);
    }
    EXPECT_TRUE(near.reader.at_eof());
  }());
}

TEST_P(Streams, OnlyOneTaskMayWaitOnAReader) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    auto first = aio::create_task(near.reader.readexactly(4));
    co_await turns(1);
    EXPECT_THROW(co_await near.reader.readline(), RuntimeError);
    far.writer.write("1234");
    EXPECT_EQ(co_await first, "1234");
  }());
}

// A read woken for bytes that another task's read takes before it runs
// waits again, as Python's loop on _wait_for_data(): the stream has not
// ended.
TEST_P(Streams, AWokenReadWhoseBytesAnotherReadTookWaitsAgain) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    // Takes n bytes as they arrive while another read waits for them: that
    // read is woken in the IO poll they come in, and this task, waiting for
    // the same poll since before it, runs first in the batch after it.
    auto take_first = [](aio::StreamReader reader, std::size_t n) -> aio::Task<std::string> {
      for (;;) {
        try {
          co_return co_await reader.readexactly(n);
        } catch (const RuntimeError&) {  // not there yet, and the other read waits
        }
        co_await aio::sleep(0);
      }
    };

    auto exactly = aio::create_task(near.reader.readexactly(4));
    co_await turns(1);
    far.writer.write("abcd");
    EXPECT_EQ(co_await take_first(near.reader, 4), "abcd");
    co_await turns(3);
    EXPECT_FALSE(exactly.done()) << "readexactly returned without its bytes";
    far.writer.write("efgh");
    EXPECT_EQ(co_await aio::wait_for(exactly, std::chrono::seconds(10)), "efgh");

    // The woken readline had searched the bytes taken from under it; it
    // searches what comes next from its start.
    auto line = aio::create_task(near.reader.readline());
    co_await turns(1);
    far.writer.write("ab");
    co_await turns(3);
    far.writer.write("c\n");
    EXPECT_EQ(co_await take_first(near.reader, 4), "abc\n");
    co_await turns(3);
    EXPECT_FALSE(line.done()) << "readline returned without a line";
    far.writer.write("1\n");
    EXPECT_EQ(co_await aio::wait_for(line, std::chrono::seconds(10)), "1\n");
  }());
}

TEST_P(Streams, HalfCloseEndsTheReadingSideOnly) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    EXPECT_TRUE(near.writer.can_write_eof());
    near.writer.write("request");
    near.writer.write_eof();
    EXPECT_THROW(near.writer.write("late"), RuntimeError);
    EXPECT_EQ(co_await far.reader.read(), "request");
    EXPECT_TRUE(far.reader.at_eof());
    far.writer.write("response");  // the other direction still works
    far.writer.close();
    EXPECT_EQ(co_await near.reader.read(), "response");
    co_await far.writer.wait_closed();
    EXPECT_TRUE(far.writer.is_closing());
  }());
}

TEST_P(Streams, WritelinesAndLargeWritesArriveInOrder) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    near.writer.writelines(std::vector<std::string>{"a", "bc", "def"});
    const std::string big = pattern(3 * 1024 * 1024, 3);
    near.writer.write(big);
    near.writer.write("end");
    near.writer.write_eof();
    auto draining = aio::create_task([](aio::StreamWriter writer) -> aio::Task<void> { co_await writer.drain(); }(near.writer));
    EXPECT_EQ(co_await far.reader.read(), "abcdef" + big + "end");
    co_await draining;
    EXPECT_EQ(near.writer.get_write_buffer_size(), 0u);
  }());
}

TEST_P(Streams, CloseSendsTheBufferFirstAndWaitClosedWaitsForTheEnd) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    const std::string big = pattern(2 * 1024 * 1024, 4);
    near.writer.write(big);
    near.writer.close();
    EXPECT_TRUE(near.writer.is_closing());
    auto closing = aio::create_task([](aio::StreamWriter writer) -> aio::Task<void> { co_await writer.wait_closed(); }(near.writer));
    EXPECT_EQ(co_await far.reader.read(), big);
    co_await closing;
    near.writer.write("ignored");  // lost connection: writes are dropped, drain() says why
    EXPECT_THROW(co_await near.writer.drain(), net::ConnectionResetError);
    EXPECT_EQ(co_await near.reader.read(), "");  // our own close ends our reading too
  }());
}

TEST_P(Streams, AddressesAndExtraInfo) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    EXPECT_EQ(near.writer.peername(), far.writer.sockname());
    EXPECT_EQ(near.writer.sockname(), far.writer.peername());
    EXPECT_EQ(near.writer.get_extra_info("peername"), far.writer.sockname());
    EXPECT_FALSE(near.writer.get_extra_info("cipher").has_value());
    EXPECT_EQ(near.writer.peername().host(), "127.0.0.1");
    EXPECT_GE(near.writer.fileno(), 0);
    near.writer.close();
    co_await near.writer.wait_closed();
    EXPECT_EQ(near.writer.fileno(), -1);
    EXPECT_EQ(near.writer.peername(), far.writer.sockname());  // asked before: still known
  }());
}

TEST_P(Streams, WriteBufferLimitsFollowPython) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_ends();
    EXPECT_EQ(near.writer.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{16 * 1024, 64 * 1024}));
    near.writer.set_write_buffer_limits(std::nullopt, 100);
    EXPECT_EQ(near.writer.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{100, 400}));
    near.writer.set_write_buffer_limits(1000);
    EXPECT_EQ(near.writer.get_write_buffer_limits(), (std::pair<std::size_t, std::size_t>{250, 1000}));
    EXPECT_THROW(near.writer.set_write_buffer_limits(10, 20), ValueError);
  }());
}

TEST_P(Streams, OpenConnectionRefusedThrowsConnectionRefusedError) {
  run([]() -> aio::Task<void> {
    std::uint16_t port;
    {
      net::Socket probe = net::create_server(net::Address::ipv4("127.0.0.1", 0));
      port = probe.getsockname().port();
    }  // closed: nothing listens there now
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", port), net::ConnectionRefusedError);
  }());
}

TEST_P(Streams, OpenConnectionResolvesNamesOffTheLoop) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(
        [](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Task<void> {
          writer.write(co_await reader.readline());
        },
        "127.0.0.1", 0);
    // "localhost" may resolve to ::1 first, where nothing listens: the
    // next address is tried.
    auto [reader, writer] = co_await aio::open_connection("localhost", server.port());
    writer.write("hi\n");
    EXPECT_EQ(co_await reader.readline(), "hi\n");
    server.close();
    co_await server.wait_closed();
  }());
}

// Python's StreamReader: ValueError('Limit cannot be <= 0'), before any connection is made.
TEST_P(Streams, ALimitOfZeroThrowsValueError) {
  run([]() -> aio::Task<void> {
    net::Socket listener = net::create_server(net::Address::ipv4("127.0.0.1", 0));
    const std::uint16_t port = listener.getsockname().port();
    auto expect_limit_error = [](std::exception_ptr error) {
      try {
        std::rethrow_exception(error);
      } catch (const ValueError& e) {
        EXPECT_STREQ(e.what(), "Limit cannot be <= 0");
      } catch (...) {
        ADD_FAILURE() << "not a ValueError";
      }
    };
    std::exception_ptr error;
    try {
      co_await aio::open_connection("127.0.0.1", port, 0);
    } catch (...) {
      error = std::current_exception();
    }
    CO_ASSERT_TRUE(error);
    expect_limit_error(error);
    listener.setblocking(false);
    EXPECT_THROW(listener.accept(), net::BlockingIOError) << "a connection was made";
    error = nullptr;
    try {
      auto [a, b] = net::socketpair(AF_UNIX, SOCK_STREAM);
      co_await aio::open_connection(std::move(a), 0);
    } catch (...) {
      error = std::current_exception();
    }
    CO_ASSERT_TRUE(error);
    expect_limit_error(error);
    error = nullptr;
    try {
      co_await aio::start_server([](aio::StreamReader, aio::StreamWriter) -> aio::Task<void> { co_return; },
                                 "127.0.0.1", 0, aio::ServerOptions{.limit = 0});
    } catch (...) {
      error = std::current_exception();
    }
    CO_ASSERT_TRUE(error);
    expect_limit_error(error);
  }());
}

TEST_P(Streams, OpenConnectionOfASocketTakesItOver) {
  run([]() -> aio::Task<void> {
    auto [a, b] = net::socketpair(AF_UNIX, SOCK_STREAM);
    auto left = co_await aio::open_connection(std::move(a));
    auto right = co_await aio::open_connection(std::move(b));
    left.writer.write("over a socketpair\n");
    EXPECT_EQ(co_await right.reader.readline(), "over a socketpair\n");
    auto [c, d] = net::socketpair(AF_UNIX, SOCK_DGRAM);
    EXPECT_THROW(co_await aio::open_connection(std::move(c)), ValueError);
  }());
}

}  // namespace
}  // namespace weft::test
