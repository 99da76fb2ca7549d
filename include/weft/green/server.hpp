// weft/green/server.hpp — weft::green::StreamServer, gevent's
// gevent.server.StreamServer: a TCP (or Unix stream) server that runs its
// handler in a new greenlet for every connection.
//
//   green::StreamServer server(net::Address::ipv4("127.0.0.1", 0),
//                              [](green::socket& conn, net::Address peer) {
//                                conn.sendall(conn.recv(1024));  // parks, never blocks
//                              });
//   server.serve_forever();   // or start(), then run other greenlets
//
// start() binds and listens (unless given a listening socket) and accepts
// in a greenlet of its own; each connection is handed, as a green::socket
// in the default timeout mode (blocking — cooperatively — unless
// net::setdefaulttimeout changed it), to handler(socket&, peer address) in
// a new greenlet, and the socket is closed when the handler returns. An
// exception escaping the handler ends that greenlet only and is reported on
// stderr, as gevent reports it. With a Pool, handlers are spawned in it: at
// most its size run at once, and the server stops accepting while it is
// full (gevent's spawn=Pool).
//
// The listening socket, made or given, is put in blocking mode: the server
// waits for connections however long it stays idle, whatever
// net::setdefaulttimeout() says or the timeout a given listener had.
//
// Accept failures other than the listener closing (EMFILE, ECONNABORTED)
// are reported on stderr and retried after a pause that doubles from 10 ms
// up to 1 s, as gevent does.
//
// Thread-safety: a server belongs to the thread (hub) that starts it; call
// it only from greenlets of that thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "weft/green/socket.hpp"
#include "weft/net/address.hpp"

namespace weft::green {

class Pool;

class StreamServer {
 public:
  using Handler = std::function<void(socket&, net::Address)>;
  using Seconds = std::chrono::duration<double>;

  // gevent's stop_timeout: how long stop() waits for handlers by default.
  static constexpr Seconds kStopTimeout{1.0};

  // A server to listen at `address` (port 0: any free port), with a listen
  // queue of `backlog`. Nothing is bound until start(). Never blocks.
  StreamServer(net::Address address, Handler handler, Pool* pool = nullptr, int backlog = 256);
  // A server on `listener`, already bound (and listening, for a stream
  // socket; start() listens if it is not, and puts it in blocking mode).
  StreamServer(socket listener, Handler handler, Pool* pool = nullptr, int backlog = 256);
  // Closes the server (as close()); handlers still running go on.
  ~StreamServer();
  StreamServer(const StreamServer&) = delete;
  StreamServer& operator=(const StreamServer&) = delete;

  // Binds and listens (SO_REUSEADDR set) if the server has no listening
  // socket yet, then starts accepting in a greenlet of its own. Never
  // blocks. Throws net::OSError if binding fails, weft::RuntimeError if
  // already started or closed.
  void start();
  // start() if not started, then parks until stop() or close(); then (or
  // if an exception is thrown into the wait) stops with `stop_timeout`.
  void serve_forever(Seconds stop_timeout = kStopTimeout);
  // Closes the server, then waits up to `timeout` for the handlers still
  // running to return, and kills (GreenletExit) those that have not,
  // waiting up to a further second for them to die. Blocks (parks).
  void stop(Seconds timeout = kStopTimeout);
  // Stops accepting and closes the listening socket; running handlers go
  // on. Idempotent. Never blocks; never throws.
  void close() noexcept;

  bool started() const noexcept;
  bool closed() const noexcept;
  // The listening address: once started, the bound one (with the port the
  // system chose for port 0); before, the one given.
  net::Address address() const;
  // How many handlers are running.
  std::size_t handler_count() const noexcept;

  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace weft::green
