// weft/aio/server.hpp — aio::Server, what start_server() returns (Python's
// asyncio.Server): listening sockets whose connections each run the
// server's handler as a task of their own.
//
// A Server accepts from the moment start_server() returns (unless
// ServerOptions::start_serving is false; then from start_serving()) until
// close(). Each connection gets a StreamReader and a StreamWriter and runs
// the handler as its own task. A handler that throws is reported through
// the loop's exception handler ("Unhandled exception in
// client_connected_cb") and its connection is closed; a cancelled handler's
// connection is closed too; every other connection goes on. A handler that
// returns leaves its connection to its stream handles: it closes once the
// last of them is gone.
//
// Each listening socket has one multishot accept on the loop's core (on
// io_uring, one submission for every connection it will take); an accept
// that fails for want of resources (EMFILE...) is reported through the
// loop's exception handler and retried a second later, as Python does.
//
// Copies of a Server refer to the same server; when the last one is gone
// the server closes (stops listening) — its connections go on.
//
// Not thread-safe: a server belongs to its loop's thread, and must not
// outlive that loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/stream_writer.hpp"
#include "weft/aio/task.hpp"
#include "weft/detail/unique_function.hpp"
#include "weft/net/address.hpp"

namespace weft::aio {

class EventLoop;

// What start_server() runs for each connection: any callable taking the
// connection's reader and writer and returning Task<void> (a coroutine
// function or lambda). It is kept, with what it captures, as long as the
// server or any of its connections lives.
using ClientHandler = weft::detail::UniqueFunction<Task<void>(StreamReader, StreamWriter)>;

// start_server()'s keyword arguments.
struct ServerOptions {
  std::size_t limit = kDefaultStreamLimit;  // each connection's StreamReader limit; not 0
  int backlog = 100;                        // listen(2)'s queue of pending connections
  bool reuse_port = false;                  // SO_REUSEPORT on the listening sockets
  bool start_serving = true;                // accept at once (else: start_serving())
};

namespace detail {
class ServerState;
void counted_add_ref(ServerState* server) noexcept;
void counted_release(ServerState* server) noexcept;
}  // namespace detail

class Server {
 public:
  Server() noexcept = default;
  explicit Server(detail::ServerState* server) noexcept : server_(server) {}

  // Stops listening: closes the listening sockets. Connections already
  // accepted go on. Wakes serve_forever(). Never blocks; idempotent.
  void close();
  // Closes every connection of the server once its write buffer is sent
  // (Python 3.13's close_clients()). Never blocks.
  void close_clients();
  // Closes every connection of the server now, dropping what it had to
  // send (Python 3.13's abort_clients()). Never blocks.
  void abort_clients();
  // Suspends until the server is closed and every connection it accepted
  // is closed. Throws CancelledError if the task is cancelled meanwhile.
  Task<void> wait_closed();

  // Starts accepting if it has not (Python's is a coroutine that yields
  // once; this one need not). Never blocks. Throws RuntimeError if the
  // server is closed.
  void start_serving();
  // Starts accepting and suspends until the task is cancelled or the server
  // is closed; either way the server is then closed, wait_closed() awaited,
  // and CancelledError thrown, as Python's serve_forever() does. Throws
  // RuntimeError if the server is closed, or already awaited in
  // serve_forever() by another task.
  Task<void> serve_forever();
  // Whether the server accepts connections now.
  bool is_serving() const noexcept;

  // The addresses of the listening sockets (Python's
  // [s.getsockname() for s in server.sockets]); empty once closed.
  std::vector<net::Address> addresses() const;
  // The port of the first listening socket — the one port 0 picked — also
  // after close(); 0 if the server has no socket.
  std::uint16_t port() const;
  EventLoop& get_loop() const noexcept;

  explicit operator bool() const noexcept { return static_cast<bool>(server_); }

 private:
  static Task<void> serve_until_closed(Server server);
  static Task<void> wait_until_closed(Server server);

  detail::CountedRef<detail::ServerState> server_;
};

}  // namespace weft::aio
