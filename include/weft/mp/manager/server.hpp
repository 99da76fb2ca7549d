// weft/mp/manager/server.hpp — the server of a manager (Python's
// multiprocessing.managers.Server) and the table of the types it can make.
//
// A Server listens on an address (a Unix socket or TCP), authenticates
// every client with the HMAC challenge of weft/mp/authentication.hpp (both
// ways, within a handshake deadline, so that a silent client pins
// nothing) and serves each client connection on its own thread: one
// request, one reply, each a MessagePack array in a Connection frame —
// [op, id, name, args] (op: create, call, incref, decref, shutdown...)
// answered by [true, encoded result] or [false, [exception type, message]].
// A local client's call connection may hand the server a block of shared
// memory through which the same frames then travel; the server checks
// what it reads there as it checks what the socket brings.
// It holds the objects its clients create, counts the references their
// processes hold and drops an object when none is left; a client
// connection that ends (even because its process was killed) releases the
// references it held, and each object is told (Managed::disconnected) so
// that what the client held — a Lock — is released.
//
// Malformed frames, unknown ids and methods, arguments of the wrong shape
// and wrong keys cost only the offending client an error (or its
// connection): the server keeps serving everyone else.
//
// Thread-safety: stop() may be called from any thread (not from a signal
// handler); the rest from one thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "weft/mp/manager/managed.hpp"
#include "weft/net/address.hpp"

namespace weft::mp::manager {

// Makes an object from its encoded constructor arguments.
using Factory = std::function<std::unique_ptr<Managed>(std::string_view args)>;

// Adds `type_id` to this process's table of types a server makes (a
// server made afterwards, or in a child started afterwards, knows it).
// Registering a typeid again replaces it. Thread-safe.
void register_type(std::string type_id, Factory make);
// Adds `type_id` as a shared instance: creating it returns a reference to
// one object of `of_type` (made with the encoded constructor arguments
// `args` on first use) that the server keeps for its whole life —
// Python's register('get_queue', callable=lambda: queue). Thread-safe.
void register_shared(std::string type_id, std::string of_type, std::string args);

class Server {
 public:
  // Binds and listens at `address` (a TCP port 0 is chosen by the system:
  // address() tells which). At a Unix socket path (not an abstract name)
  // it makes the socket file, and removes it when it stops listening
  // (serve_forever() returning, the Server destroyed, or a failure here),
  // as Listener does, so that the address can be served again. Throws
  // net::OSError when binding fails. Never blocks.
  Server(const net::Address& address, std::string authkey);
  // Stops serving (as stop()) and waits for serve_forever() to return.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const net::Address& address() const noexcept;

  // Blocks serving clients until a client asks for shutdown or stop() is
  // called; then closes every client connection (their proxies raise
  // ManagerGoneError) and returns.
  void serve_forever();
  void stop() noexcept;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace weft::mp::manager
