// start_server() and Server, on both backends: an echo server under a
// thousand concurrent connections, closing the server and its clients,
// handlers that throw, serve_forever(), peers that reset, and a loop that
// ends with clients still connected — each test leaving no coroutine frame
// and no file descriptor behind.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "aio/co_assert.hpp"
#include "aio/stream_support.hpp"
#include "weft/detail/exception_text.hpp"

namespace weft::test {
namespace {

using StreamServer = StreamTest;
WEFT_STREAM_TEST_SUITE(StreamServer);

aio::Task<void> echo(aio::StreamReader reader, aio::StreamWriter writer) {
  for (;;) {
    std::string data = co_await reader.read(64 * 1024);
    if (data.empty()) break;
    writer.write(data);
    co_await writer.drain();
  }
  writer.close();
  co_await writer.wait_closed();
}

// Sends `payload`, half-closes, and returns everything that came back.
aio::Task<std::string> echo_client(std::uint16_t port, std::string payload) {
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
  writer.write(payload);
  writer.write_eof();
  std::string back = co_await reader.read();
  writer.close();
  co_await writer.wait_closed();
  co_return back;
}

// One line in, the same line out, until the end of the stream.
aio::Task<std::string> round_trip(aio::StreamPair& client, const std::string& line) {
  client.writer.write(line);
  co_return co_await client.reader.readline();
}

TEST_P(StreamServer, EchoesForAThousandConcurrentConnections) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0, {.backlog = 1024});
    EXPECT_TRUE(server.is_serving());
    std::vector<std::string> payloads;
    std::vector<aio::TaskHandle<std::string>> clients;
    for (unsigned i = 0; i < 1000; ++i) {
      payloads.push_back(pattern(1 + (i * 7919) % 20000, i));
      clients.push_back(aio::create_task(echo_client(server.port(), payloads.back())));
    }
    int wrong = 0;
    for (std::size_t i = 0; i < clients.size(); ++i)
      if (co_await clients[i] != payloads[i] && ++wrong <= 3) ADD_FAILURE() << "client " << i << " got other bytes back";
    EXPECT_EQ(wrong, 0);
    server.close();
    co_await server.wait_closed();
  }());
}

TEST_P(StreamServer, PortZeroPicksAPortAndABusyPortThrows) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    EXPECT_NE(server.port(), 0);
    CO_ASSERT_TRUE(server.addresses().size() == 1u);
    EXPECT_EQ(server.addresses()[0], net::Address::ipv4("127.0.0.1", server.port()));
    EXPECT_THROW(co_await aio::start_server(echo, "127.0.0.1", server.port()), net::OSError);
    aio::Server everywhere = co_await aio::start_server(echo, "", 0);  // every interface, as Python's None
    EXPECT_FALSE(everywhere.addresses().empty());
    auto client = co_await aio::open_connection("127.0.0.1", everywhere.addresses()[0].port());
    EXPECT_EQ(co_await round_trip(client, "any\n"), "any\n");
  }());
}

TEST_P(StreamServer, StartServerTakesOverABoundSocket) {
  run([]() -> aio::Task<void> {
    net::Socket sock(AF_INET, SOCK_STREAM);
    sock.bind(net::Address::ipv4("127.0.0.1", 0));
    const std::uint16_t port = sock.getsockname().port();
    aio::Server server = co_await aio::start_server(echo, std::move(sock));
    EXPECT_EQ(server.port(), port);
    auto client = co_await aio::open_connection("127.0.0.1", port);
    EXPECT_EQ(co_await round_trip(client, "via sock\n"), "via sock\n");
    EXPECT_THROW(co_await aio::start_server(echo, net::Socket(AF_INET, SOCK_DGRAM)), ValueError);
  }());
}

TEST_P(StreamServer, CloseStopsListeningAndWaitClosedWaitsForTheConnections) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    const std::uint16_t port = server.port();
    auto client = co_await aio::open_connection("127.0.0.1", port);
    EXPECT_EQ(co_await round_trip(client, "before\n"), "before\n");
    server.close();
    EXPECT_FALSE(server.is_serving());
    EXPECT_TRUE(server.addresses().empty());
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", port), net::ConnectionRefusedError);
    auto closed = aio::create_task([](aio::Server server) -> aio::Task<void> { co_await server.wait_closed(); }(server));
    EXPECT_EQ(co_await round_trip(client, "after\n"), "after\n");  // the connection goes on
    co_await turns(5);
    EXPECT_FALSE(closed.done()) << "wait_closed() returned with a connection open";
    client.writer.close();
    co_await closed;
    EXPECT_THROW(server.start_serving(), RuntimeError);
  }());
}

TEST_P(StreamServer, CloseClientsEndsEveryConnection) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    std::vector<aio::StreamPair> clients;
    for (int i = 0; i < 5; ++i) {
      clients.push_back(co_await aio::open_connection("127.0.0.1", server.port()));
      EXPECT_EQ(co_await round_trip(clients.back(), "hi\n"), "hi\n");
    }
    server.close();
    server.close_clients();
    co_await server.wait_closed();
    for (auto& client : clients) EXPECT_EQ(co_await client.reader.read(), "");
  }());
}

TEST_P(StreamServer, AbortClientsDropsWhatTheyHadToSend) {
  run([]() -> aio::Task<void> {
    auto flood = [](aio::StreamReader, aio::StreamWriter writer) -> aio::Task<void> {
      const std::string chunk(64 * 1024, 'f');
      try {
        for (;;) {
          writer.write(chunk);
          co_await writer.drain();
        }
      } catch (const net::ConnectionResetError&) {  // "Connection lost" once aborted
      }
    };
    aio::Server server = co_await aio::start_server(flood, "127.0.0.1", 0);
    auto client = co_await aio::open_connection("127.0.0.1", server.port());
    limit_socket_buffers(client.writer.fileno());
    EXPECT_FALSE((co_await client.reader.read(1)).empty());  // the flood has begun; the client reads no more
    co_await turns(20);
    server.close();
    server.abort_clients();  // close_clients() would wait for the client to read it all
    co_await server.wait_closed();
  }());
}

TEST_P(StreamServer, AHandlerThatThrowsIsReportedAndEndsOnlyItsConnection) {
  run([]() -> aio::Task<void> {
    std::vector<std::string> reports;
    aio::get_running_loop().set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& context) {
      reports.push_back(context.message + ": " + weft::detail::exception_text(context.exception));
    });
    auto handler = [](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Task<void> {
      for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty()) co_return;
        if (line == "boom\n") throw std::runtime_error("boom");
        writer.write(line);
      }
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0);
    auto steady = co_await aio::open_connection("127.0.0.1", server.port());
    auto doomed = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_EQ(co_await round_trip(steady, "one\n"), "one\n");
    doomed.writer.write("boom\n");
    EXPECT_EQ(co_await doomed.reader.read(), "");  // closed by the server
    EXPECT_EQ(co_await round_trip(steady, "two\n"), "two\n");
    aio::get_running_loop().set_exception_handler({});
    CO_ASSERT_TRUE(reports.size() == 1u);
    EXPECT_EQ(reports[0], "Unhandled exception in client_connected_cb: boom");
  }());
}

TEST_P(StreamServer, HandlersGetTheServersLimit) {
  run([]() -> aio::Task<void> {
    auto handler = [](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Task<void> {
      writer.write(std::to_string(reader.limit()) + "\n");
      co_return;
    };
    aio::Server server = co_await aio::start_server(handler, "127.0.0.1", 0, {.limit = 100});
    auto client = co_await aio::open_connection("127.0.0.1", server.port());
    EXPECT_EQ(co_await client.reader.readline(), "100\n");
  }());
}

TEST_P(StreamServer, ServeForeverServesUntilCancelledThenCloses) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0, {.start_serving = false});
    EXPECT_FALSE(server.is_serving());
    auto serving = aio::create_task(server.serve_forever());
    co_await turns(1);
    EXPECT_TRUE(server.is_serving());
    EXPECT_THROW(co_await server.serve_forever(), RuntimeError);  // one task at a time
    {
      auto client = co_await aio::open_connection("127.0.0.1", server.port());
      EXPECT_EQ(co_await round_trip(client, "served\n"), "served\n");
    }
    serving.cancel();
    EXPECT_THROW(co_await serving, aio::CancelledError);
    EXPECT_FALSE(server.is_serving());
    EXPECT_THROW(co_await aio::open_connection("127.0.0.1", server.port()), net::ConnectionRefusedError);
    EXPECT_THROW(co_await server.serve_forever(), RuntimeError);  // closed
  }());
}

TEST_P(StreamServer, ServeForeverEndsCancelledWhenTheServerIsClosed) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    auto serving = aio::create_task(server.serve_forever());
    co_await turns(1);
    server.close();
    EXPECT_THROW(co_await serving, aio::CancelledError);
  }());
}

TEST_P(StreamServer, APeerResetFailsReadsDrainAndWaitClosed) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_and_socket();
    auto reading = aio::create_task(near.reader.read(100));
    co_await turns(1);
    const linger reset{1, 0};
    far.setsockopt(SOL_SOCKET, SO_LINGER, std::as_bytes(std::span(&reset, 1)));
    far.close();  // RST
    EXPECT_THROW(co_await reading, net::ConnectionResetError);
    EXPECT_TRUE(near.writer.is_closing());
    EXPECT_NE(near.reader.exception(), nullptr);
    EXPECT_THROW(co_await near.reader.readline(), net::ConnectionResetError);
    near.writer.write("into the void");  // ignored, as in Python
    EXPECT_THROW(co_await near.writer.drain(), net::ConnectionResetError);
    EXPECT_THROW(co_await near.writer.wait_closed(), net::ConnectionResetError);
  }());
}

TEST_P(StreamServer, WritingToAPeerThatClosedFailsOnDrain) {
  run([]() -> aio::Task<void> {
    auto [near, far] = co_await stream_and_socket();
    far.close();  // FIN; whatever we send next is answered with RST
    EXPECT_EQ(co_await near.reader.read(), "");
    bool failed = false;
    for (int i = 0; i < 1000 && !failed; ++i) {
      near.writer.write("data nobody reads");
      try {
        co_await near.writer.drain();
        co_await turns(1);
      } catch (const net::ConnectionError&) {
        failed = true;
      }
    }
    EXPECT_TRUE(failed) << "drain() never reported the broken connection";
  }());
}

TEST_P(StreamServer, ALoopThatEndsWithClientsConnectedClosesThemAll) {
  run([]() -> aio::Task<void> {
    aio::Server server = co_await aio::start_server(echo, "127.0.0.1", 0);
    std::vector<aio::StreamPair> clients;
    for (int i = 0; i < 20; ++i) {
      clients.push_back(co_await aio::open_connection("127.0.0.1", server.port()));
      clients.back().writer.write("unfinished");
    }
    co_await turns(3);
    // Returning leaves the server's handler tasks waiting on their reads:
    // asyncio.run cancels them, and the fixture checks that nothing is left.
  }());
}

}  // namespace
}  // namespace weft::test
