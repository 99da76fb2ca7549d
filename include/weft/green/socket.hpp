// weft/green/socket.hpp — weft::green::socket, gevent's cooperative
// gevent.socket.socket, with socketpair() and create_connection().
//
// The interface is net::Socket's (weft/net/socket.hpp) member for member,
// with the same three modes, exceptions and Python semantics; the
// difference is how it waits. The descriptor is always O_NONBLOCK
// underneath: a call tries its system call, and when that would block it
// parks the calling greenlet on the hub (wait_readable / wait_writable)
// until the socket is ready, so every other greenlet of the thread runs
// meanwhile. Called from the main greenlet, a blocking call runs the hub.
//
// One exception to trying first: once a receive on a stream socket has
// returned less than it asked for, the socket had nothing more queued, so
// the next receive in a waiting mode (recv, recv_into and their try_ forms)
// parks until the socket is readable before it reads, instead of spending
// a system call to learn that it would block. What it returns is the same
// either way; a timeout still lets it take what arrived in time.
//
//   blocking      gettimeout() == nullopt: a call waits (cooperatively) as
//                 long as it takes.
//   non-blocking  gettimeout() == 0: a call that cannot complete at once
//                 throws net::BlockingIOError.
//   timeout       gettimeout() == t > 0: a call waits at most t from its
//                 start (sendall: for the whole call), then throws
//                 net::TimeoutError("timed out").
// A new socket starts in the mode of net::getdefaulttimeout().
//
// "Blocks" below means: parks the calling greenlet as the mode allows.
// Besides the errors named, each blocking call throws what is thrown into
// the parked greenlet (green::Timeout, GreenletExit) — the socket stays
// usable — and net::OSError(EBADF) if another greenlet closes the socket
// while this one waits on it.
//
// close() (and the destructor) wakes every greenlet of this thread waiting
// on the socket and removes it from the hub's loop before closing it. A
// descriptor taken out with detach() that was ever waited on should be
// closed with green::close_fd() (see weft/green/wait.hpp).
//
// Thread-safety: a socket belongs to the thread whose greenlets use it.
// Several greenlets of that thread may use it at once (one sending while
// another receives, several waiting to accept). Changing its mode, close(),
// detach(), moving it and destroying it must not overlap a call on it in
// another thread.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "weft/green/wait.hpp"
#include "weft/net/address.hpp"
#include "weft/net/errors.hpp"
#include "weft/net/socket.hpp"

namespace weft::green {

class socket {
 public:
  // A new socket, as net::Socket(family, type, proto): SOCK_NONBLOCK in
  // `type` starts it in non-blocking mode, else it takes the default
  // timeout. Throws net::OSError. Never blocks.
  explicit socket(int family = AF_INET, int type = SOCK_STREAM, int proto = 0);
  // Adopts a net::Socket, keeping its mode (gevent's socket(fileno=...) of
  // an existing socket). Throws net::OSError if its descriptor cannot be
  // made non-blocking.
  explicit socket(net::Socket sock);
  // Adopts `fd`, as net::Socket::from_fd. Throws net::OSError.
  static socket from_fd(int fd);

  socket(socket&& other) noexcept;
  // Closes this socket (as close()), then takes other's.
  socket& operator=(socket&& other) noexcept;
  socket(const socket&) = delete;
  socket& operator=(const socket&) = delete;
  // Closes the socket as close() does.
  ~socket();

  // The descriptor; -1 once closed, detached or moved from.
  int fileno() const noexcept { return sock_.fileno(); }
  int family() const noexcept { return sock_.family(); }
  int type() const noexcept { return sock_.type(); }
  int proto() const noexcept { return sock_.proto(); }

  // As net::Socket's; never block. settimeout throws ValueError for a
  // negative or NaN timeout, net::OSError if the socket is closed.
  void setblocking(bool flag);
  bool getblocking() const noexcept { return timeout_ != 0; }
  void settimeout(std::optional<std::chrono::nanoseconds> timeout);
  template <class Rep, class Period>
  void settimeout(std::chrono::duration<Rep, Period> timeout) {
    settimeout(std::optional(net::detail::timeout_ns(timeout)));
  }
  std::optional<std::chrono::nanoseconds> gettimeout() const noexcept;

  // Never block; throw net::OSError.
  void bind(const net::Address& address) { sock_.bind(address); }
  void listen(int backlog = 128) { sock_.listen(backlog); }

  // Takes the next connection: a green::socket in the default timeout mode,
  // and the peer's address. Blocks.
  std::pair<socket, net::Address> accept();
  std::optional<std::pair<socket, net::Address>> try_accept();
  // Connects. Blocks until connected (non-blocking mode: throws
  // BlockingIOError(EINPROGRESS) while the connection is being made).
  // Throws ConnectionRefusedError and the other OSErrors.
  void connect(const net::Address& address);
  // connect() returning the errno: 0, EINPROGRESS (non-blocking mode),
  // EWOULDBLOCK (the timeout ran out), or the failure.
  int connect_ex(const net::Address& address);

  // Sends what the kernel takes now (waiting until it takes something);
  // returns the byte count. Blocks; throws BrokenPipeError,
  // ConnectionResetError.
  std::size_t send(std::span<const std::byte> data, int flags = 0);
  std::size_t send(std::string_view data, int flags = 0) { return send(as_bytes(data), flags); }
  std::optional<std::size_t> try_send(std::span<const std::byte> data, int flags = 0);
  std::optional<std::size_t> try_send(std::string_view data, int flags = 0) {
    return try_send(as_bytes(data), flags);
  }
  // Sends all of `data`; in timeout mode the timeout bounds the whole call.
  // When it throws, an unknown prefix has been sent.
  void sendall(std::span<const std::byte> data, int flags = 0);
  void sendall(std::string_view data, int flags = 0) { sendall(as_bytes(data), flags); }
  std::size_t sendto(std::span<const std::byte> data, const net::Address& address, int flags = 0);
  std::size_t sendto(std::string_view data, const net::Address& address, int flags = 0) {
    return sendto(as_bytes(data), address, flags);
  }
  std::optional<std::size_t> try_sendto(std::span<const std::byte> data,
                                        const net::Address& address, int flags = 0);
  std::optional<std::size_t> try_sendto(std::string_view data, const net::Address& address,
                                        int flags = 0) {
    return try_sendto(as_bytes(data), address, flags);
  }
  std::size_t sendmsg(const msghdr& message, int flags = 0);

  // Receives at most `bufsize` bytes; "" at end of stream. Blocks; throws
  // ConnectionResetError.
  std::string recv(std::size_t bufsize, int flags = 0);
  std::optional<std::string> try_recv(std::size_t bufsize, int flags = 0);
  std::size_t recv_into(std::span<std::byte> buffer, int flags = 0);
  std::size_t recv_into(std::span<char> buffer, int flags = 0) {
    return recv_into(std::as_writable_bytes(buffer), flags);
  }
  std::optional<std::size_t> try_recv_into(std::span<std::byte> buffer, int flags = 0);
  std::optional<std::size_t> try_recv_into(std::span<char> buffer, int flags = 0) {
    return try_recv_into(std::as_writable_bytes(buffer), flags);
  }
  std::pair<std::string, net::Address> recvfrom(std::size_t bufsize, int flags = 0);
  std::pair<std::size_t, net::Address> recvfrom_into(std::span<std::byte> buffer, int flags = 0);
  std::optional<std::pair<std::string, net::Address>> try_recvfrom(std::size_t bufsize,
                                                                   int flags = 0);
  std::optional<std::pair<std::size_t, net::Address>> try_recvfrom_into(
      std::span<std::byte> buffer, int flags = 0);
  std::size_t recvmsg(msghdr& message, int flags = 0);

  // As net::Socket's; never block.
  void shutdown(int how) { sock_.shutdown(how); }
  // Wakes this thread's greenlets waiting on the socket (they get
  // OSError(EBADF)), removes it from the hub's loop and closes it; does
  // nothing if already closed. Never blocks; never throws.
  void close() noexcept;
  // Gives up the descriptor without closing it (-1 if none).
  int detach() noexcept { return sock_.detach(); }
  // A socket on a duplicate descriptor, with this one's timeout.
  socket dup() const;

  void setsockopt(int level, int option, int value) { sock_.setsockopt(level, option, value); }
  void setsockopt(int level, int option, std::span<const std::byte> value) {
    sock_.setsockopt(level, option, value);
  }
  int getsockopt(int level, int option) const { return sock_.getsockopt(level, option); }
  std::string getsockopt(int level, int option, std::size_t buflen) const {
    return sock_.getsockopt(level, option, buflen);
  }
  net::Address getsockname() const { return sock_.getsockname(); }
  net::Address getpeername() const { return sock_.getpeername(); }
  bool get_inheritable() const { return sock_.get_inheritable(); }
  void set_inheritable(bool inheritable) { sock_.set_inheritable(inheritable); }

 private:
  socket(net::Socket&& sock, std::int64_t timeout) noexcept
      : sock_(std::move(sock)), timeout_(timeout) {}

  static std::span<const std::byte> as_bytes(std::string_view data) noexcept {
    return std::as_bytes(std::span(data.data(), data.size()));
  }
  // Runs `attempt` (a non-blocking try, returning an optional) until it has
  // a result, waiting for `events` between tries until `deadline` as the
  // mode allows; on running out returns nullopt if `soft`, else throws.
  template <class Attempt>
  auto cooperate(std::uint32_t events, const char* what, bool soft, const WaitDeadline& deadline,
                 Attempt attempt) -> decltype(attempt());
  // cooperate() for recv and recv_into: receives at most `asked` bytes,
  // waiting for readability first when the last receive drained the socket.
  template <class Attempt>
  auto receive(bool soft, std::size_t asked, int flags, Attempt attempt) -> decltype(attempt());
  // Waits for `events` on the descriptor; false when `deadline` passed.
  bool wait(std::uint32_t events, const WaitDeadline& deadline);
  WaitDeadline call_deadline() const;
  int connect_impl(const net::Address& address, bool raise);

  // Always in non-blocking mode.
  net::Socket sock_;
  // The mode, in nanoseconds: -1 blocking, 0 non-blocking.
  std::int64_t timeout_ = -1;
  // The last receive took less than it asked of a stream socket: nothing
  // more was queued.
  bool drained_ = false;
};

// A connected pair of green sockets in the default timeout mode. Throws
// net::OSError. Never blocks.
std::pair<socket, socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM, int proto = 0);

// net::create_connection with a green::socket: connects to `address`
// (blocks cooperatively), the timeout bounding the connect too; binds
// `source_address` first if given.
socket create_connection(const net::Address& address,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                         const std::optional<net::Address>& source_address = std::nullopt);
// Resolves `host` (blocking the thread on the resolver unless it is
// numeric) and tries each address in turn; rethrows the first failure if
// none connects.
socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<std::chrono::nanoseconds> timeout = std::nullopt,
                         const std::optional<net::Address>& source_address = std::nullopt);

}  // namespace weft::green
