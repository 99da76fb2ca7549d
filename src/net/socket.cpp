// weft::net::Socket: CPython's sock_call_ex loop over the socket syscalls.
//
// Every call first tries its syscall. Blocking and non-blocking modes stop
// there (an EAGAIN in non-blocking mode becomes BlockingIOError). Timeout
// mode, whose descriptor is O_NONBLOCK, answers EAGAIN by waiting in ppoll()
// for readiness until the call's deadline, then tries again — CPython polls
// before the first try; trying first saves a syscall when the socket is
// ready, which it mostly is.
#include "weft/net/socket.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>

#include "weft/detail/deadline.hpp"
#include "weft/net/errors.hpp"

namespace weft::net {

namespace {

using weft::detail::Clock;
using Nanos = std::chrono::nanoseconds;

constexpr std::int64_t kBlocking = -1;

std::atomic<std::int64_t> default_timeout{kBlocking};

std::int64_t to_internal(std::optional<Nanos> timeout) {
  if (!timeout) return kBlocking;
  if (*timeout < Nanos::zero()) throw ValueError("Timeout value out of range");
  return timeout->count();
}

void set_nonblocking(int fd, bool on) {
  int flag = on ? 1 : 0;
  if (::ioctl(fd, FIONBIO, &flag) != 0) raise_os_error(errno, "setblocking");
}

// The deadline of one call in timeout mode, and the waiting for readiness
// until it. A negative timeout waits without limit.
class Waiter {
 public:
  Waiter(int fd, std::int64_t timeout) : fd_(fd) {
    if (timeout >= 0) deadline_ = weft::detail::deadline_after(Nanos(timeout));
  }

  // Waits until the descriptor is ready for `events` (or in error); false if
  // the deadline passed first.
  bool wait(short events) const {
    for (;;) {
      timespec limit{};
      if (deadline_) {
        const auto left = std::chrono::duration_cast<Nanos>(*deadline_ - Clock::now());
        if (left < Nanos::zero()) return false;
        limit.tv_sec = static_cast<std::time_t>(left.count() / 1'000'000'000);
        limit.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      }
      pollfd target{fd_, events, 0};
      const int ready = ::ppoll(&target, 1, deadline_ ? &limit : nullptr, nullptr);
      if (ready > 0) return true;
      if (ready == 0) return false;
      if (errno != EINTR) raise_os_error(errno, "poll");
    }
  }

 private:
  int fd_;
  weft::detail::Deadline deadline_;
};

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

// Runs `op` (a syscall returning -1 and errno on failure) until it succeeds,
// retrying EINTR and, in timeout mode, waiting out EAGAIN with `waiter`.
// Where Python raises BlockingIOError (non-blocking mode) or TimeoutError,
// returns nullopt if `soft`, else throws; other failures always throw.
template <class Op>
auto retry(const Waiter& waiter, std::int64_t timeout, short events, const char* what, bool soft,
           Op op) -> std::optional<decltype(op())> {
  for (;;) {
    const auto result = op();
    if (result >= 0) return result;
    const int err = errno;
    if (err == EINTR) continue;
    if (timeout > 0 && would_block(err)) {
      if (waiter.wait(events)) continue;
      if (soft) return std::nullopt;
      throw TimeoutError();
    }
    if (soft && timeout == 0 && would_block(err)) return std::nullopt;
    raise_os_error(err, what);
  }
}

template <class Op>
auto retry(int fd, std::int64_t timeout, short events, const char* what, bool soft, Op op) {
  return retry(Waiter(fd, timeout > 0 ? timeout : kBlocking), timeout, events, what, soft, op);
}

// Waits with `waiter` for the connection being made on `fd` and returns its
// outcome: 0 once made, else the errno; nullopt if the deadline passed first.
std::optional<int> connection_outcome(int fd, const Waiter& waiter) {
  for (;;) {
    if (!waiter.wait(POLLOUT)) return std::nullopt;
    int outcome = 0;
    socklen_t size = sizeof(outcome);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &outcome, &size) != 0) return errno;
    if (outcome == EISCONN) return 0;
    if (outcome != EINTR && !would_block(outcome)) return outcome;
  }
}

// Whether `fd` is connected to a peer.
bool has_peer(int fd) {
  sockaddr_storage peer{};
  socklen_t size = sizeof(peer);
  return ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &size) == 0;
}

// A receive buffer cut down to the `received` bytes that arrived (fewer if
// MSG_TRUNC reported a longer datagram), without keeping a large allocation
// for a few bytes.
std::string trimmed(std::string data, std::size_t received) {
  data.resize(std::min(received, data.size()));
  if (data.capacity() - data.size() > 4096) data.shrink_to_fit();
  return data;
}

}  // namespace

std::optional<Nanos> getdefaulttimeout() noexcept {
  const std::int64_t timeout = default_timeout.load(std::memory_order_relaxed);
  if (timeout < 0) return std::nullopt;
  return Nanos(timeout);
}

void setdefaulttimeout(std::optional<Nanos> timeout) {
  default_timeout.store(to_internal(timeout), std::memory_order_relaxed);
}

Socket::Socket(int family, int type, int proto)
    : family_(family), type_(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)), proto_(proto) {
  timeout_ = (type & SOCK_NONBLOCK) != 0 ? 0 : default_timeout.load(std::memory_order_relaxed);
  fd_ = ::socket(family, type_ | SOCK_CLOEXEC | (timeout_ >= 0 ? SOCK_NONBLOCK : 0), proto);
  if (fd_ < 0) raise_os_error(errno, "socket");
}

Socket Socket::from_fd(int fd) {
  int options[3] = {};
  const int names[3] = {SO_DOMAIN, SO_TYPE, SO_PROTOCOL};
  for (int i = 0; i < 3; ++i) {
    socklen_t size = sizeof(options[i]);
    if (::getsockopt(fd, SOL_SOCKET, names[i], &options[i], &size) != 0)
      raise_os_error(errno, "socket");
  }
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) raise_os_error(errno, "socket");
  std::int64_t timeout = 0;
  if ((flags & O_NONBLOCK) == 0) {
    timeout = default_timeout.load(std::memory_order_relaxed);
    if (timeout >= 0) set_nonblocking(fd, true);
  }
  return Socket(fd, options[0], options[1], options[2], timeout);
}

Socket::Socket(Socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      family_(other.family_),
      type_(other.type_),
      proto_(other.proto_),
      timeout_(other.timeout_) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    family_ = other.family_;
    type_ = other.type_;
    proto_ = other.proto_;
    timeout_ = other.timeout_;
  }
  return *this;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

void Socket::setblocking(bool flag) {
  settimeout(flag ? std::nullopt : std::optional<Nanos>(Nanos::zero()));
}

void Socket::settimeout(std::optional<Nanos> timeout) {
  const std::int64_t value = to_internal(timeout);
  set_nonblocking(fd_, value >= 0);
  timeout_ = value;
}

std::optional<Nanos> Socket::gettimeout() const noexcept {
  if (timeout_ < 0) return std::nullopt;
  return Nanos(timeout_);
}

void Socket::bind(const Address& address) {
  if (::bind(fd_, address.data(), address.size()) != 0) raise_os_error(errno, "bind");
}

void Socket::listen(int backlog) {
  if (::listen(fd_, backlog < 0 ? 0 : backlog) != 0) raise_os_error(errno, "listen");
}

std::optional<std::pair<Socket, Address>> Socket::accept_impl(bool soft) {
  sockaddr_storage peer{};
  socklen_t size = 0;
  const std::int64_t timeout = default_timeout.load(std::memory_order_relaxed);
  const int flags = SOCK_CLOEXEC | (timeout >= 0 ? SOCK_NONBLOCK : 0);
  const auto fd = retry(fd_, timeout_, POLLIN, "accept", soft, [&] {
    size = sizeof(peer);
    return ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &size, flags);
  });
  if (!fd) return std::nullopt;
  Socket connection(*fd, family_, type_, proto_, timeout);
  return std::pair(std::move(connection), Address(reinterpret_cast<const sockaddr*>(&peer), size));
}

std::pair<Socket, Address> Socket::accept() { return *accept_impl(false); }

std::optional<std::pair<Socket, Address>> Socket::try_accept() { return accept_impl(true); }

int Socket::connect_impl(const Address& address, bool raise) {
  // An interrupted connect() goes on asynchronously on an IP stream socket;
  // so does a non-blocking one. Blocking and timeout modes wait for it and
  // read its outcome. Other sockets (AF_UNIX) may drop an interrupted attempt
  // and yet look writable with no error pending: only a peer proves that it
  // connected, else connect() starts again.
  const bool resumes = (family_ == AF_INET || family_ == AF_INET6) && type_ == SOCK_STREAM;
  std::optional<Waiter> waiter;
  for (;;) {
    if (::connect(fd_, address.data(), address.size()) == 0) return 0;
    int err = errno;
    const bool interrupted = err == EINTR;
    if (interrupted ? timeout_ != 0 : timeout_ > 0 && err == EINPROGRESS) {
      if (!waiter) waiter.emplace(fd_, timeout_);
      const std::optional<int> outcome = connection_outcome(fd_, *waiter);
      if (!outcome) {
        if (raise) throw TimeoutError();
        return EWOULDBLOCK;
      }
      err = *outcome;
      if (err == 0 && interrupted && !resumes && !has_peer(fd_)) continue;
    }
    if (err == 0) return 0;
    if (raise) raise_os_error(err, "connect");
    return err;
  }
}

void Socket::connect(const Address& address) { connect_impl(address, true); }

int Socket::connect_ex(const Address& address) { return connect_impl(address, false); }

std::optional<std::size_t> Socket::send_impl(std::span<const std::byte> data, int flags,
                                             bool soft) {
  return retry(fd_, timeout_, POLLOUT, "send", soft,
               [&] { return ::send(fd_, data.data(), data.size(), flags | MSG_NOSIGNAL); });
}

std::size_t Socket::send(std::span<const std::byte> data, int flags) {
  return *send_impl(data, flags, false);
}

std::optional<std::size_t> Socket::try_send(std::span<const std::byte> data, int flags) {
  return send_impl(data, flags, true);
}

void Socket::sendall(std::span<const std::byte> data, int flags) {
  const Waiter waiter(fd_, timeout_ > 0 ? timeout_ : kBlocking);
  do {
    const auto sent = *retry(waiter, timeout_, POLLOUT, "send", false, [&] {
      return ::send(fd_, data.data(), data.size(), flags | MSG_NOSIGNAL);
    });
    data = data.subspan(static_cast<std::size_t>(sent));
  } while (!data.empty());
}

std::optional<std::size_t> Socket::sendto_impl(std::span<const std::byte> data,
                                               const Address& address, int flags, bool soft) {
  return retry(fd_, timeout_, POLLOUT, "sendto", soft, [&] {
    return ::sendto(fd_, data.data(), data.size(), flags | MSG_NOSIGNAL, address.data(),
                    address.size());
  });
}

std::size_t Socket::sendto(std::span<const std::byte> data, const Address& address, int flags) {
  return *sendto_impl(data, address, flags, false);
}

std::optional<std::size_t> Socket::try_sendto(std::span<const std::byte> data,
                                              const Address& address, int flags) {
  return sendto_impl(data, address, flags, true);
}

std::size_t Socket::sendmsg(const msghdr& message, int flags) {
  return static_cast<std::size_t>(*retry(fd_, timeout_, POLLOUT, "sendmsg", false, [&] {
    return ::sendmsg(fd_, &message, flags | MSG_NOSIGNAL);
  }));
}

std::optional<std::size_t> Socket::recv_into_impl(std::span<std::byte> buffer, int flags,
                                                  bool soft) {
  return retry(fd_, timeout_, POLLIN, "recv", soft,
               [&] { return ::recv(fd_, buffer.data(), buffer.size(), flags); });
}

std::size_t Socket::recv_into(std::span<std::byte> buffer, int flags) {
  return *recv_into_impl(buffer, flags, false);
}

std::optional<std::size_t> Socket::try_recv_into(std::span<std::byte> buffer, int flags) {
  return recv_into_impl(buffer, flags, true);
}

std::string Socket::recv(std::size_t bufsize, int flags) {
  std::string data(bufsize, '\0');
  const std::size_t received =
      *recv_into_impl(std::as_writable_bytes(std::span(data)), flags, false);
  return trimmed(std::move(data), received);
}

std::optional<std::string> Socket::try_recv(std::size_t bufsize, int flags) {
  std::string data(bufsize, '\0');
  const auto received = recv_into_impl(std::as_writable_bytes(std::span(data)), flags, true);
  if (!received) return std::nullopt;
  return trimmed(std::move(data), *received);
}

std::optional<std::pair<std::size_t, Address>> Socket::recvfrom_into_impl(
    std::span<std::byte> buffer, int flags, bool soft) {
  sockaddr_storage sender{};
  socklen_t size = 0;
  const auto received = retry(fd_, timeout_, POLLIN, "recvfrom", soft, [&] {
    size = sizeof(sender);
    return ::recvfrom(fd_, buffer.data(), buffer.size(), flags,
                      reinterpret_cast<sockaddr*>(&sender), &size);
  });
  if (!received) return std::nullopt;
  return std::pair(static_cast<std::size_t>(*received),
                   Address(reinterpret_cast<const sockaddr*>(&sender), size));
}

std::pair<std::size_t, Address> Socket::recvfrom_into(std::span<std::byte> buffer, int flags) {
  return *recvfrom_into_impl(buffer, flags, false);
}

std::optional<std::pair<std::size_t, Address>> Socket::try_recvfrom_into(
    std::span<std::byte> buffer, int flags) {
  return recvfrom_into_impl(buffer, flags, true);
}

std::pair<std::string, Address> Socket::recvfrom(std::size_t bufsize, int flags) {
  return *recvfrom_impl(bufsize, flags, false);
}

std::optional<std::pair<std::string, Address>> Socket::try_recvfrom(std::size_t bufsize,
                                                                    int flags) {
  return recvfrom_impl(bufsize, flags, true);
}

std::optional<std::pair<std::string, Address>> Socket::recvfrom_impl(std::size_t bufsize, int flags,
                                                                     bool soft) {
  std::string data(bufsize, '\0');
  auto received = recvfrom_into_impl(std::as_writable_bytes(std::span(data)), flags, soft);
  if (!received) return std::nullopt;
  return std::pair(trimmed(std::move(data), received->first), std::move(received->second));
}

std::size_t Socket::recvmsg(msghdr& message, int flags) {
  msghdr attempt{};
  const auto received = *retry(fd_, timeout_, POLLIN, "recvmsg", false, [&] {
    attempt = message;
    return ::recvmsg(fd_, &attempt, flags);
  });
  message = attempt;
  return static_cast<std::size_t>(received);
}

void Socket::shutdown(int how) {
  if (::shutdown(fd_, how) != 0) raise_os_error(errno, "shutdown");
}

void Socket::close() {
  const int fd = std::exchange(fd_, -1);
  if (fd < 0) return;
  // Linux releases the descriptor even when close() fails, so it is never
  // retried; a reset connection is not worth reporting (as in CPython).
  if (::close(fd) != 0 && errno != ECONNRESET && errno != EINTR) raise_os_error(errno, "close");
}

int Socket::detach() noexcept { return std::exchange(fd_, -1); }

Socket Socket::dup() const {
  const int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) raise_os_error(errno, "dup");
  return Socket(fd, family_, type_, proto_, timeout_);
}

void Socket::setsockopt(int level, int option, int value) {
  if (::setsockopt(fd_, level, option, &value, sizeof(value)) != 0)
    raise_os_error(errno, "setsockopt");
}

void Socket::setsockopt(int level, int option, std::span<const std::byte> value) {
  if (::setsockopt(fd_, level, option, value.data(), static_cast<socklen_t>(value.size())) != 0)
    raise_os_error(errno, "setsockopt");
}

int Socket::getsockopt(int level, int option) const {
  int value = 0;
  socklen_t size = sizeof(value);
  if (::getsockopt(fd_, level, option, &value, &size) != 0) raise_os_error(errno, "getsockopt");
  return value;
}

std::string Socket::getsockopt(int level, int option, std::size_t buflen) const {
  std::string value(buflen, '\0');
  auto size = static_cast<socklen_t>(buflen);
  if (::getsockopt(fd_, level, option, value.data(), &size) != 0)
    raise_os_error(errno, "getsockopt");
  value.resize(size);
  return value;
}

Address Socket::getsockname() const {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    raise_os_error(errno, "getsockname");
  return Address(reinterpret_cast<const sockaddr*>(&address), size);
}

Address Socket::getpeername() const {
  sockaddr_storage address{};
  socklen_t size = sizeof(address);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
    raise_os_error(errno, "getpeername");
  return Address(reinterpret_cast<const sockaddr*>(&address), size);
}

bool Socket::get_inheritable() const {
  const int flags = ::fcntl(fd_, F_GETFD);
  if (flags < 0) raise_os_error(errno, "get_inheritable");
  return (flags & FD_CLOEXEC) == 0;
}

void Socket::set_inheritable(bool inheritable) {
  const int flags = ::fcntl(fd_, F_GETFD);
  if (flags < 0 ||
      ::fcntl(fd_, F_SETFD, inheritable ? flags & ~FD_CLOEXEC : flags | FD_CLOEXEC) != 0)
    raise_os_error(errno, "set_inheritable");
}

std::pair<Socket, Socket> socketpair(int family, int type, int proto) {
  const std::int64_t timeout =
      (type & SOCK_NONBLOCK) != 0 ? 0 : default_timeout.load(std::memory_order_relaxed);
  const int bare = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
  int fds[2];
  if (::socketpair(family, bare | SOCK_CLOEXEC | (timeout >= 0 ? SOCK_NONBLOCK : 0), proto, fds) !=
      0)
    raise_os_error(errno, "socketpair");
  return {Socket(fds[0], family, bare, proto, timeout),
          Socket(fds[1], family, bare, proto, timeout)};
}

}  // namespace weft::net
