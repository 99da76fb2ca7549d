// weft/net/socket.hpp — weft::net::Socket, Python's socket.socket, with
// socketpair() and the module-wide default timeout.
//
// A Socket owns one socket descriptor, created close-on-exec (PEP 446), and
// closes it when destroyed; it is movable, not copyable. A closed,
// detached or moved-from Socket has fileno() == -1, and every call that
// needs the descriptor throws OSError(EBADF), as on a closed Python socket.
//
// Each Socket is in one of CPython's three modes:
//   blocking      gettimeout() == nullopt: calls block in the kernel.
//   non-blocking  gettimeout() == 0: a call that cannot complete at once
//                 throws BlockingIOError.
//   timeout       gettimeout() == t > 0: the descriptor is O_NONBLOCK and a
//                 call that cannot complete waits in poll() until it can, at
//                 most t from the start of that call (sendall: of the whole
//                 call), then throws net::TimeoutError("timed out").
// A new Socket starts in the mode of getdefaulttimeout(): blocking unless
// setdefaulttimeout() changed it.
//
// Calls interrupted by a signal (EINTR) are retried. Sends pass
// MSG_NOSIGNAL: writing to a connection the peer has closed throws
// BrokenPipeError (or ConnectionResetError) and never raises SIGPIPE. Every
// OS failure throws the OSError subclass Python would raise
// (weft/net/errors.hpp).
//
// Data: std::span<std::byte> buffers are the zero-copy path (send,
// recv_into); std::string_view data and std::string results are the
// Python-flavoured convenience.
//
// Each call that Python makes raise BlockingIOError or TimeoutError when
// nothing happens in time has a try_ form that returns std::nullopt instead
// (try_accept, try_send, try_sendto, try_recv, try_recv_into, try_recvfrom,
// try_recvfrom_into); every other failure still throws. In blocking mode the
// try_ forms block like the others. connect_ex() is connect()'s.
//
// Thread-safety: as in Python, several threads may use one Socket at once
// (one sending while another receives, several accepting). Changing its
// mode, close(), detach(), moving it and destroying it must not overlap any
// other call on it.
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

#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/net/address.hpp"

namespace weft::net {

namespace detail {
// A timeout as whole nanoseconds, rounded up; durations too large saturate.
// Throws ValueError for a negative or NaN one, as Python does.
template <class Rep, class Period>
std::chrono::nanoseconds timeout_ns(std::chrono::duration<Rep, Period> timeout) {
  using Seconds = std::chrono::duration<double>;
  weft::detail::reject_nan(timeout);
  if (timeout < timeout.zero()) throw ValueError("Timeout value out of range");
  if (std::chrono::duration_cast<Seconds>(timeout) >=
      std::chrono::duration_cast<Seconds>(std::chrono::nanoseconds::max()))
    return std::chrono::nanoseconds::max();
  return std::chrono::ceil<std::chrono::nanoseconds>(timeout);
}
}  // namespace detail

// The timeout new Sockets start with (Python's socket.getdefaulttimeout):
// nullopt for blocking, 0 for non-blocking. Never blocks; thread-safe.
std::optional<std::chrono::nanoseconds> getdefaulttimeout() noexcept;
// Sets it for Sockets made from now on, by any thread. Throws ValueError for
// a negative or NaN timeout. Thread-safe.
void setdefaulttimeout(std::optional<std::chrono::nanoseconds> timeout);
template <class Rep, class Period>
void setdefaulttimeout(std::chrono::duration<Rep, Period> timeout) {
  setdefaulttimeout(std::optional(detail::timeout_ns(timeout)));
}

class Socket {
 public:
  // A new socket (Python's socket.socket(family, type, proto)). SOCK_NONBLOCK
  // in `type` starts it in non-blocking mode; type() never includes the
  // SOCK_NONBLOCK and SOCK_CLOEXEC flags. Throws OSError. Never blocks.
  explicit Socket(int family = AF_INET, int type = SOCK_STREAM, int proto = 0);
  // Adopts `fd` (Python's socket.socket(fileno=fd)), reading its family,
  // type and protocol from the kernel. A descriptor already O_NONBLOCK is in
  // non-blocking mode; any other takes the default timeout. Throws OSError
  // (ENOTSOCK, EBADF) and then does not adopt `fd`.
  static Socket from_fd(int fd);

  Socket(Socket&& other) noexcept;
  // Closes this socket's descriptor (ignoring errors), then takes other's.
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  // Closes the descriptor, ignoring errors.
  ~Socket();

  // The descriptor; -1 once closed, detached or moved from.
  int fileno() const noexcept { return fd_; }
  int family() const noexcept { return family_; }
  int type() const noexcept { return type_; }
  int proto() const noexcept { return proto_; }

  // setblocking(true) is settimeout(nullopt); setblocking(false) is
  // settimeout(0). Throws OSError. Never blocks.
  void setblocking(bool flag);
  // False only in non-blocking mode (gettimeout() == 0), as in Python.
  bool getblocking() const noexcept { return timeout_ != 0; }
  // Selects the mode: nullopt blocking, 0 non-blocking, more for timeout
  // mode. Throws ValueError for a negative or NaN timeout, OSError if the
  // socket is closed. Never blocks.
  void settimeout(std::optional<std::chrono::nanoseconds> timeout);
  template <class Rep, class Period>
  void settimeout(std::chrono::duration<Rep, Period> timeout) {
    settimeout(std::optional(detail::timeout_ns(timeout)));
  }
  std::optional<std::chrono::nanoseconds> gettimeout() const noexcept;

  // Binds to `address`. Throws OSError (EADDRINUSE, EACCES, ...). Never
  // blocks.
  void bind(const Address& address);
  // Starts listening with a queue of `backlog` pending connections (a
  // negative one counts as 0). Throws OSError. Never blocks.
  void listen(int backlog = 128);
  // Takes the next connection and the peer's address. Blocks according to
  // the mode. The new Socket, like CPython's, does not inherit this one's
  // timeout: it starts with getdefaulttimeout() (blocking unless changed).
  std::pair<Socket, Address> accept();
  std::optional<std::pair<Socket, Address>> try_accept();
  // Connects to `address`. Blocking mode waits for the connection;
  // non-blocking mode throws BlockingIOError (EINPROGRESS) while it is being
  // made; timeout mode waits at most the timeout and throws TimeoutError.
  // An AF_UNIX connection is made at once or not at all: while the
  // listener's backlog is full, blocking mode waits for room, but the other
  // modes throw BlockingIOError (EAGAIN) at once, as in CPython, since no
  // event tells when room comes. Throws ConnectionRefusedError and the other
  // OSErrors.
  void connect(const Address& address);
  // connect() that returns the errno instead of throwing: 0 on success,
  // EINPROGRESS in non-blocking mode, EWOULDBLOCK (EAGAIN) when timeout mode
  // runs out or an AF_UNIX listener's backlog is full (as CPython does).
  int connect_ex(const Address& address);

  // Sends what the kernel takes of `data` now and returns how many bytes
  // that was. Blocks according to the mode; throws BrokenPipeError or
  // ConnectionResetError when the peer is gone.
  std::size_t send(std::span<const std::byte> data, int flags = 0);
  std::size_t send(std::string_view data, int flags = 0) {
    return send(std::as_bytes(std::span(data.data(), data.size())), flags);
  }
  std::optional<std::size_t> try_send(std::span<const std::byte> data, int flags = 0);
  std::optional<std::size_t> try_send(std::string_view data, int flags = 0) {
    return try_send(std::as_bytes(std::span(data.data(), data.size())), flags);
  }
  // Sends all of `data`, waiting as the mode allows; in timeout mode the
  // timeout bounds the whole call. When it throws, an unknown prefix of
  // `data` may have been sent — which is also why it has no try_ form.
  void sendall(std::span<const std::byte> data, int flags = 0);
  void sendall(std::string_view data, int flags = 0) {
    sendall(std::as_bytes(std::span(data.data(), data.size())), flags);
  }
  // Sends `data` to `address` (one datagram, on a datagram socket); returns
  // the bytes sent. Blocks according to the mode.
  std::size_t sendto(std::span<const std::byte> data, const Address& address, int flags = 0);
  std::size_t sendto(std::string_view data, const Address& address, int flags = 0) {
    return sendto(std::as_bytes(std::span(data.data(), data.size())), address, flags);
  }
  std::optional<std::size_t> try_sendto(std::span<const std::byte> data, const Address& address,
                                        int flags = 0);
  std::optional<std::size_t> try_sendto(std::string_view data, const Address& address,
                                        int flags = 0) {
    return try_sendto(std::as_bytes(std::span(data.data(), data.size())), address, flags);
  }
  // Sends with sendmsg(2): iovecs, ancillary data and an optional name as
  // `message` describes them; returns the bytes sent. Blocks according to
  // the mode.
  std::size_t sendmsg(const msghdr& message, int flags = 0);

  // Receives at most `bufsize` bytes; "" when the peer has shut down its
  // side (end of stream). Blocks according to the mode; throws
  // ConnectionResetError when the peer reset the connection.
  std::string recv(std::size_t bufsize, int flags = 0);
  std::optional<std::string> try_recv(std::size_t bufsize, int flags = 0);
  // Receives into `buffer`, without allocating; returns the bytes stored
  // (0 at end of stream; with MSG_TRUNC, a datagram's whole length). Blocks
  // according to the mode.
  std::size_t recv_into(std::span<std::byte> buffer, int flags = 0);
  std::size_t recv_into(std::span<char> buffer, int flags = 0) {
    return recv_into(std::as_writable_bytes(buffer), flags);
  }
  std::optional<std::size_t> try_recv_into(std::span<std::byte> buffer, int flags = 0);
  std::optional<std::size_t> try_recv_into(std::span<char> buffer, int flags = 0) {
    return try_recv_into(std::as_writable_bytes(buffer), flags);
  }
  // recv() and recv_into() that also return the sender's address: an empty
  // Address (family AF_UNSPEC, Python's None) when there is none, as on a
  // connected stream socket or from an unbound Unix sender.
  std::pair<std::string, Address> recvfrom(std::size_t bufsize, int flags = 0);
  std::pair<std::size_t, Address> recvfrom_into(std::span<std::byte> buffer, int flags = 0);
  std::optional<std::pair<std::string, Address>> try_recvfrom(std::size_t bufsize, int flags = 0);
  std::optional<std::pair<std::size_t, Address>> try_recvfrom_into(std::span<std::byte> buffer,
                                                                   int flags = 0);
  // Receives with recvmsg(2) into what `message` describes; on return its
  // msg_namelen, msg_controllen and msg_flags are the kernel's. Returns the
  // bytes received. Blocks according to the mode.
  std::size_t recvmsg(msghdr& message, int flags = 0);

  // Shuts down the reading side (SHUT_RD), the writing side (SHUT_WR: the
  // peer's recv then returns "") or both (SHUT_RDWR). Throws OSError
  // (ENOTCONN). Never blocks.
  void shutdown(int how);
  // Closes the descriptor; does nothing if already closed. Throws OSError if
  // close(2) fails other than with ECONNRESET (the descriptor is released
  // either way). Never blocks, except as SO_LINGER asks.
  void close();
  // Gives up the descriptor without closing it and returns it (-1 if there
  // was none). Never blocks.
  int detach() noexcept;
  // A new Socket on a duplicate descriptor, with this one's timeout. The
  // two share O_NONBLOCK, as duplicates do. Throws OSError.
  Socket dup() const;

  // setsockopt(2) with an int value or a raw byte value (for a struct such
  // as linger). Throws OSError. Never blocks.
  void setsockopt(int level, int option, int value);
  void setsockopt(int level, int option, std::span<const std::byte> value);
  // getsockopt(2) of an int option, or of up to `buflen` raw bytes.
  // Throws OSError. Never blocks.
  int getsockopt(int level, int option) const;
  std::string getsockopt(int level, int option, std::size_t buflen) const;

  // The socket's own address and its peer's. Throws OSError (ENOTCONN for
  // the peer of an unconnected socket). Neither blocks.
  Address getsockname() const;
  Address getpeername() const;

  // Whether child processes inherit the descriptor across exec (initially
  // false). Throws OSError. Neither blocks.
  bool get_inheritable() const;
  void set_inheritable(bool inheritable);

 private:
  // Adopts `fd`, whose O_NONBLOCK flag already matches `timeout`.
  Socket(int fd, int family, int type, int proto, std::int64_t timeout) noexcept
      : fd_(fd), family_(family), type_(type), proto_(proto), timeout_(timeout) {}

  friend std::pair<Socket, Socket> socketpair(int family, int type, int proto);

  // The calls with a try_ form; `soft` selects it.
  std::optional<std::pair<Socket, Address>> accept_impl(bool soft);
  std::optional<std::size_t> send_impl(std::span<const std::byte> data, int flags, bool soft);
  std::optional<std::size_t> sendto_impl(std::span<const std::byte> data, const Address& address,
                                         int flags, bool soft);
  std::optional<std::size_t> recv_into_impl(std::span<std::byte> buffer, int flags, bool soft);
  std::optional<std::pair<std::size_t, Address>> recvfrom_into_impl(std::span<std::byte> buffer,
                                                                    int flags, bool soft);
  std::optional<std::pair<std::string, Address>> recvfrom_impl(std::size_t bufsize, int flags,
                                                               bool soft);
  int connect_impl(const Address& address, bool raise);

  int fd_ = -1;
  int family_ = AF_UNSPEC;
  int type_ = 0;
  int proto_ = 0;
  // In nanoseconds; -1 for blocking mode.
  std::int64_t timeout_ = -1;
};

// A connected pair of sockets (Python's socket.socketpair), both with the
// default timeout. Throws OSError. Never blocks.
std::pair<Socket, Socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM, int proto = 0);

}  // namespace weft::net
