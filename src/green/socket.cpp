// green::socket: net::Socket in non-blocking mode, with the waiting done by
// parking on the hub instead of in poll().
#include "weft/green/socket.hpp"

#include <cerrno>
#include <exception>
#include <utility>

#include "wait_table.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::green {
namespace {

using Nanos = std::chrono::nanoseconds;

std::int64_t mode_of(std::optional<Nanos> timeout) noexcept { return timeout ? timeout->count() : -1; }

std::int64_t mode_of(const net::Socket& sock) noexcept { return mode_of(sock.gettimeout()); }

// The bytes a receive took.
std::size_t received_size(const std::optional<std::size_t>& received) noexcept { return *received; }
std::size_t received_size(const std::optional<std::string>& received) noexcept { return received->size(); }

}  // namespace

socket::socket(int family, int type, int proto)
    : sock_(family, type | SOCK_NONBLOCK, proto),
      timeout_((type & SOCK_NONBLOCK) != 0 ? 0 : mode_of(net::getdefaulttimeout())) {}

socket::socket(net::Socket sock) : socket(std::move(sock), mode_of(sock)) {
  sock_.setblocking(false);
}

socket socket::from_fd(int fd) { return socket(net::Socket::from_fd(fd)); }

socket::socket(socket&& other) noexcept
    : sock_(std::move(other.sock_)), timeout_(other.timeout_), drained_(std::exchange(other.drained_, false)) {}

socket& socket::operator=(socket&& other) noexcept {
  if (this != &other) {
    close();
    sock_ = std::move(other.sock_);
    timeout_ = other.timeout_;
    drained_ = std::exchange(other.drained_, false);
  }
  return *this;
}

socket::~socket() { close(); }

void socket::setblocking(bool flag) { settimeout(flag ? std::nullopt : std::optional(Nanos::zero())); }

void socket::settimeout(std::optional<Nanos> timeout) {
  if (timeout && *timeout < Nanos::zero()) throw ValueError("Timeout value out of range");
  if (sock_.fileno() < 0) net::raise_os_error(EBADF, "settimeout");
  timeout_ = mode_of(timeout);
}

std::optional<Nanos> socket::gettimeout() const noexcept {
  if (timeout_ < 0) return std::nullopt;
  return Nanos(timeout_);
}

WaitDeadline socket::call_deadline() const {
  if (timeout_ <= 0) return std::nullopt;
  return weft::detail::deadline_after(Nanos(timeout_));
}

bool socket::wait(std::uint32_t events, const WaitDeadline& deadline) {
  return detail::wait_fd(sock_.fileno(), events, deadline,
                         events == detail::kReadable ? "socket readable" : "socket writable");
}

template <class Attempt>
auto socket::cooperate(std::uint32_t events, const char* what, bool soft,
                       const WaitDeadline& deadline, Attempt attempt) -> decltype(attempt()) {
  for (;;) {
    auto result = attempt();
    if (result) return result;
    if (timeout_ == 0) {
      if (soft) return std::nullopt;
      net::raise_os_error(EAGAIN, what);
    }
    if (!wait(events, deadline)) {
      if (soft) return std::nullopt;
      throw net::TimeoutError();
    }
  }
}

template <class Attempt>
auto socket::receive(bool soft, std::size_t asked, int flags, Attempt attempt) -> decltype(attempt()) {
  const WaitDeadline deadline = call_deadline();
  const bool wait_first = std::exchange(drained_, false) && timeout_ != 0;
  const bool in_time = !wait_first || wait(detail::kReadable, deadline);
  auto result = in_time ? cooperate(detail::kReadable, "recv", soft, deadline, attempt) : attempt();
  if (!result) {
    if (in_time || soft) return result;
    throw net::TimeoutError();
  }
  const std::size_t got = received_size(result);
  drained_ = got > 0 && got < asked && (flags & MSG_PEEK) == 0 && sock_.type() == SOCK_STREAM;
  return result;
}

std::optional<std::pair<socket, net::Address>> socket::try_accept() {
  auto accepted = cooperate(detail::kReadable, "accept", true, call_deadline(),
                            [&] { return sock_.try_accept(); });
  if (!accepted) return std::nullopt;
  return std::pair(socket(std::move(accepted->first)), std::move(accepted->second));
}

std::pair<socket, net::Address> socket::accept() {
  auto accepted = cooperate(detail::kReadable, "accept", false, call_deadline(),
                            [&] { return sock_.try_accept(); });
  return std::pair(socket(std::move(accepted->first)), std::move(accepted->second));
}

int socket::connect_impl(const net::Address& address, bool raise) {
  int err = sock_.connect_ex(address);
  if ((err == EINPROGRESS || err == EINTR) && timeout_ != 0) {
    const WaitDeadline deadline = call_deadline();
    do {
      if (!wait(detail::kWritable, deadline)) {
        if (raise) throw net::TimeoutError();
        return EWOULDBLOCK;
      }
      err = sock_.getsockopt(SOL_SOCKET, SO_ERROR);
    } while (err == EINPROGRESS || err == EINTR || err == EAGAIN);
    if (err == EISCONN) err = 0;
  }
  if (err != 0 && raise) net::raise_os_error(err, "connect");
  return err;
}

void socket::connect(const net::Address& address) { connect_impl(address, true); }

int socket::connect_ex(const net::Address& address) { return connect_impl(address, false); }

std::optional<std::size_t> socket::try_send(std::span<const std::byte> data, int flags) {
  return cooperate(detail::kWritable, "send", true, call_deadline(),
                   [&] { return sock_.try_send(data, flags); });
}

std::size_t socket::send(std::span<const std::byte> data, int flags) {
  return *cooperate(detail::kWritable, "send", false, call_deadline(),
                    [&] { return sock_.try_send(data, flags); });
}

void socket::sendall(std::span<const std::byte> data, int flags) {
  const WaitDeadline deadline = call_deadline();
  while (!data.empty()) {
    const std::size_t sent = *cooperate(detail::kWritable, "send", false, deadline,
                                        [&] { return sock_.try_send(data, flags); });
    data = data.subspan(sent);
  }
}

std::optional<std::size_t> socket::try_sendto(std::span<const std::byte> data,
                                              const net::Address& address, int flags) {
  return cooperate(detail::kWritable, "sendto", true, call_deadline(),
                   [&] { return sock_.try_sendto(data, address, flags); });
}

std::size_t socket::sendto(std::span<const std::byte> data, const net::Address& address,
                           int flags) {
  return *cooperate(detail::kWritable, "sendto", false, call_deadline(),
                    [&] { return sock_.try_sendto(data, address, flags); });
}

// net::Socket has no try_ form of sendmsg and recvmsg: in non-blocking mode
// they throw BlockingIOError when they would block.
std::size_t socket::sendmsg(const msghdr& message, int flags) {
  return *cooperate(detail::kWritable, "sendmsg", false, call_deadline(),
                    [&]() -> std::optional<std::size_t> {
                      try {
                        return sock_.sendmsg(message, flags);
                      } catch (const net::BlockingIOError&) {
                        return std::nullopt;
                      }
                    });
}

std::size_t socket::recvmsg(msghdr& message, int flags) {
  return *cooperate(detail::kReadable, "recvmsg", false, call_deadline(),
                    [&]() -> std::optional<std::size_t> {
                      try {
                        return sock_.recvmsg(message, flags);
                      } catch (const net::BlockingIOError&) {
                        return std::nullopt;
                      }
                    });
}

std::optional<std::string> socket::try_recv(std::size_t bufsize, int flags) {
  return receive(true, bufsize, flags, [&] { return sock_.try_recv(bufsize, flags); });
}

std::string socket::recv(std::size_t bufsize, int flags) {
  return *receive(false, bufsize, flags, [&] { return sock_.try_recv(bufsize, flags); });
}

std::optional<std::size_t> socket::try_recv_into(std::span<std::byte> buffer, int flags) {
  return receive(true, buffer.size(), flags, [&] { return sock_.try_recv_into(buffer, flags); });
}

std::size_t socket::recv_into(std::span<std::byte> buffer, int flags) {
  return *receive(false, buffer.size(), flags, [&] { return sock_.try_recv_into(buffer, flags); });
}

std::optional<std::pair<std::string, net::Address>> socket::try_recvfrom(std::size_t bufsize,
                                                                         int flags) {
  return cooperate(detail::kReadable, "recvfrom", true, call_deadline(),
                   [&] { return sock_.try_recvfrom(bufsize, flags); });
}

std::pair<std::string, net::Address> socket::recvfrom(std::size_t bufsize, int flags) {
  return *cooperate(detail::kReadable, "recvfrom", false, call_deadline(),
                    [&] { return sock_.try_recvfrom(bufsize, flags); });
}

std::optional<std::pair<std::size_t, net::Address>> socket::try_recvfrom_into(
    std::span<std::byte> buffer, int flags) {
  return cooperate(detail::kReadable, "recvfrom", true, call_deadline(),
                   [&] { return sock_.try_recvfrom_into(buffer, flags); });
}

std::pair<std::size_t, net::Address> socket::recvfrom_into(std::span<std::byte> buffer,
                                                           int flags) {
  return *cooperate(detail::kReadable, "recvfrom", false, call_deadline(),
                    [&] { return sock_.try_recvfrom_into(buffer, flags); });
}

void socket::close() noexcept { close_fd(sock_.detach()); }

socket socket::dup() const { return socket(sock_.dup(), timeout_); }

std::pair<socket, socket> socketpair(int family, int type, int proto) {
  auto [a, b] = net::socketpair(family, type, proto);
  return {socket(std::move(a)), socket(std::move(b))};
}

socket create_connection(const net::Address& address, std::optional<std::chrono::nanoseconds> timeout,
                         const std::optional<net::Address>& source_address) {
  socket sock(address.family(), SOCK_STREAM);
  if (timeout) sock.settimeout(*timeout);
  if (source_address) sock.bind(*source_address);
  sock.connect(address);
  return sock;
}

socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<std::chrono::nanoseconds> timeout,
                         const std::optional<net::Address>& source_address) {
  if (timeout && *timeout < timeout->zero()) throw ValueError("Timeout value out of range");
  std::exception_ptr first_error;
  for (const net::AddrInfo& info : net::getaddrinfo(host, port, AF_UNSPEC, SOCK_STREAM)) {
    try {
      return create_connection(info.address, timeout, source_address);
    } catch (const net::OSError&) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  throw net::OSError(std::error_code(), "getaddrinfo returns an empty list");
}

}  // namespace weft::green
