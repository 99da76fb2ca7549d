// weft/aio/streams.hpp — asyncio streams: open_connection() and
// start_server(), Python's high-level TCP API, on the loop's IO core (epoll
// or io_uring, whichever the loop runs).
//
//   auto [reader, writer] = co_await aio::open_connection("127.0.0.1", port);
//   writer.write("ping\n");
//   co_await writer.drain();
//   std::string reply = co_await reader.readline();
//   writer.close();
//   co_await writer.wait_closed();
//
//   aio::Server server = co_await aio::start_server(
//       [](aio::StreamReader reader, aio::StreamWriter writer) -> aio::Task<> {
//         while (true) {
//           std::string data = co_await reader.read(64 * 1024);
//           if (data.empty()) break;
//           writer.write(data);
//           co_await writer.drain();
//         }
//       },
//       "127.0.0.1", 0);
//   co_await server.serve_forever();
//
// StreamReader (weft/aio/stream_reader.hpp), StreamWriter
// (weft/aio/stream_writer.hpp) and Server (weft/aio/server.hpp) say what
// each call does. Both functions must be awaited inside a task of a
// running loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "weft/aio/server.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/stream_writer.hpp"
#include "weft/aio/task.hpp"
#include "weft/net/socket.hpp"

namespace weft::aio {

// The two halves of a connection, what open_connection() returns
// (Python's (reader, writer) tuple; structured bindings take it apart).
struct StreamPair {
  StreamReader reader;
  StreamWriter writer;
};

// Connects to `host` (a numeric address, resolved at once, or a name,
// resolved on the loop's default executor) and `port`, trying each address
// the name has in turn, and returns the connection's streams; `limit` is
// the reader's buffer limit (a limit of 0 throws ValueError("Limit cannot
// be <= 0") before any socket is made). Suspends until connected. Throws
// the first address's error if none connects — net::ConnectionRefusedError
// and the other std::system_errors of weft/net/errors.hpp, net::gaierror if
// the name does not resolve — and CancelledError if the task is cancelled
// meanwhile (the attempt is abandoned, its socket closed).
Task<StreamPair> open_connection(std::string host, std::uint16_t port, std::size_t limit = kDefaultStreamLimit);
// The streams of a socket already connected (Python's open_connection(sock=
// sock)), which they take over: it is made non-blocking and closed with
// them. Never suspends. Throws ValueError unless it is a stream socket or
// for a limit of 0.
Task<StreamPair> open_connection(net::Socket sock, std::size_t limit = kDefaultStreamLimit);

// Listens on every address of `host` ("" for every interface, Python's
// None; a name is resolved as for open_connection) at `port` (0 picks a
// free one: see Server::port()) and returns the Server, which runs
// `handler` as a task of its own for each connection. Suspends only to
// resolve a name. Throws ValueError("Limit cannot be <= 0") for an
// options.limit of 0 (before any socket is made), net::OSError if a socket
// cannot be bound (AddressInUse...), net::gaierror if the name does not
// resolve.
Task<Server> start_server(ClientHandler handler, std::string host, std::uint16_t port, ServerOptions options = {});
// The same on a socket already bound (Python's start_server(sock=sock)),
// which the server takes over: it listens with options.backlog and is
// closed with the server. Never suspends. Throws ValueError unless it is a
// stream socket or for an options.limit of 0, net::OSError if it cannot
// listen.
Task<Server> start_server(ClientHandler handler, net::Socket sock, ServerOptions options = {});

}  // namespace weft::aio
