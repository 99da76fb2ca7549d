// weft/mp/listener.hpp — weft::mp::Listener and Client(), Python's
// multiprocessing.connection.Listener and Client: Connections between
// processes that did not inherit a Pipe, over a Unix socket (a filesystem
// path or a Linux abstract name) or TCP, optionally authenticated with a
// shared key (weft/mp/authentication.hpp).
//
// Wire-compatible with CPython: a Python program's Client(address,
// authkey=...) can connect to a weft Listener, and a weft Client() to a
// Python Listener, and the two exchange send_bytes()/recv_bytes() messages.
// Python's address forms map onto net::Address: a path string is
// Address::unix_path(path), "\0name" an abstract name, ('127.0.0.1', port)
// Address::ipv4(...).
//
// Unlike Python's, a Listener bounds each accept()'s authentication
// handshake with a deadline (handshake_timeout(), 5 s unless changed), so
// that a client that connects and says nothing, says garbage, or vanishes
// halfway cannot stall the Listener: that accept() throws and the Listener
// stays ready for the next client.
//
// Thread-safety: a Listener may be used by one thread at a time; close(),
// moving and destroying must not overlap another call. Client() is safe
// from any thread.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

#include "weft/mp/connection.hpp"
#include "weft/net/address.hpp"
#include "weft/net/socket.hpp"

namespace weft::mp {

class Listener {
 public:
  static constexpr std::chrono::seconds kDefaultHandshakeTimeout{5};

  // Binds a stream socket to `address` (SO_REUSEADDR set, as Python does)
  // and listens with `backlog`. `family` (AF_UNIX, AF_INET, AF_INET6)
  // defaults to the address's; without an address, it picks one: for
  // AF_UNIX (the default) a fresh path in a new private directory under the
  // system's temporary directory, for AF_INET/AF_INET6 a free loopback
  // port. With a non-empty `authkey`, every accepted connection must pass
  // the HMAC challenge both ways; an empty one, as in Python, authenticates
  // nothing (a Client() given an empty key waits for a challenge that never
  // comes). Throws ValueError for an unknown family or one that does not
  // match `address`, OSError when binding fails (AddressInUse,
  // PermissionError...). Never blocks.
  explicit Listener(std::optional<net::Address> address = std::nullopt, int family = AF_UNSPEC,
                    int backlog = 1, std::optional<std::string> authkey = std::nullopt);
  Listener(Listener&& other) noexcept;
  Listener& operator=(Listener&& other) noexcept;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  // Closes, as close() does.
  ~Listener();

  // Blocks until a client connects, then, with a non-empty authkey,
  // delivers the challenge and answers the client's, within
  // handshake_timeout(); returns the authenticated Connection. Throws
  // OSError("listener is closed"); for that one client: AuthenticationError
  // when its key differs or it does not speak the protocol (a message that
  // is not the expected one, or too long), weft::TimeoutError when the
  // handshake ran past its deadline, EOFError when the client closed or
  // reset the connection before it ended. The client's connection is closed
  // then; the Listener is not.
  Connection accept();

  // Closes the socket and, in the process that created the Listener,
  // removes its socket file (and the directory it picked for it). Does
  // nothing if already closed. Never throws; never blocks.
  void close() noexcept;
  bool closed() const noexcept { return socket_.fileno() < 0; }

  // The address the Listener is bound to (with the port the system chose,
  // for TCP port 0). Still valid after close().
  const net::Address& address() const noexcept { return address_; }
  // The peer address of the last connection accept() took (an unnamed
  // Unix address for a Unix client); nullopt before the first.
  const std::optional<net::Address>& last_accepted() const noexcept { return last_accepted_; }

  // The limit of each accept()'s handshake; nullopt: none (Python's
  // behaviour). Throws ValueError for a negative or NaN timeout.
  std::optional<std::chrono::nanoseconds> handshake_timeout() const noexcept {
    return handshake_timeout_;
  }
  void set_handshake_timeout(std::optional<std::chrono::nanoseconds> timeout);
  template <class Rep, class Period>
  void set_handshake_timeout(std::chrono::duration<Rep, Period> timeout) {
    set_handshake_timeout(std::optional(net::detail::timeout_ns(timeout)));
  }

 private:
  net::Socket socket_;
  net::Address address_;
  std::optional<net::Address> last_accepted_;
  std::optional<std::string> authkey_;
  std::optional<std::chrono::nanoseconds> handshake_timeout_ = kDefaultHandshakeTimeout;
  // What close() removes, and in which process.
  std::string socket_file_;
  std::string private_dir_;
  pid_t owner_ = -1;
};

// Connects to a Listener at `address` (Python's Client). `family` defaults
// to the address's; a different one is a ValueError. With `authkey`,
// answers the Listener's challenge, then challenges it, as Python does.
// Blocks for the connection and the handshake (with no time limit, as in
// Python). Throws ConnectionRefusedError, FileNotFoundError and the other
// OSErrors; AuthenticationError when the keys differ; EOFError when the
// Listener closes the connection during the handshake.
Connection Client(const net::Address& address, int family = AF_UNSPEC,
                  std::optional<std::string> authkey = std::nullopt);

}  // namespace weft::mp
