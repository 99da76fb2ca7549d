// weft::mp::Connection as an object: adoption, state checks, close, poll;
// Pipe(); and a Connection's decoding in a child process.
#include "weft/mp/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "poll_timeout.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp {

namespace {

[[noreturn]] void throw_state_error(const char* what) {
  throw net::OSError(std::error_code(EBADF, std::generic_category()), what);
}

}  // namespace

Connection::Connection(int fd, bool readable, bool writable) {
  if (fd < 0) throw ValueError("invalid handle");
  if (!readable && !writable)
    throw ValueError("at least one of `readable` and `writable` must be True");
  struct stat info {};
  is_socket_ = ::fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
  fd_ = fd;
  readable_ = readable;
  writable_ = writable;
}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      readable_(std::exchange(other.readable_, false)),
      writable_(std::exchange(other.writable_, false)),
      is_socket_(std::exchange(other.is_socket_, false)),
      io_deadline_(std::exchange(other.io_deadline_, std::nullopt)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    readable_ = std::exchange(other.readable_, false);
    writable_ = std::exchange(other.writable_, false);
    is_socket_ = std::exchange(other.is_socket_, false);
    io_deadline_ = std::exchange(other.io_deadline_, std::nullopt);
  }
  return *this;
}

Connection::~Connection() { close(); }

int Connection::fileno() const {
  if (fd_ < 0) throw_state_error("handle is closed");
  return fd_;
}

void Connection::close() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
}

void Connection::check_readable() const {
  if (fd_ < 0) throw_state_error("handle is closed");
  if (!readable_) throw_state_error("connection is write-only");
}

void Connection::check_writable() const {
  if (fd_ < 0) throw_state_error("handle is closed");
  if (!writable_) throw_state_error("connection is read-only");
}

bool Connection::poll_until(const weft::detail::Deadline& deadline) {
  check_readable();
  pollfd entry{fd_, POLLIN, 0};
  while (true) {
    const int ready = ::poll(&entry, 1, detail::poll_timeout_ms(deadline));
    if (ready > 0) return true;
    if (ready == 0) {
      // poll(2) may wake a little early on a coarse clock; wait the rest.
      if (!deadline || weft::detail::expired(deadline)) return false;
      continue;
    }
    if (errno != EINTR) net::raise_os_error(errno, "poll");
  }
}

void Connection::wait_readable() const {
  if (!io_deadline_) return;
  pollfd entry{fd_, POLLIN, 0};
  while (true) {
    const int ready = ::poll(&entry, 1, detail::poll_timeout_ms(io_deadline_));
    if (ready > 0) return;
    if (ready == 0 && weft::detail::expired(io_deadline_))
      throw weft::TimeoutError("timed out waiting for the peer");
    if (ready < 0 && errno != EINTR) net::raise_os_error(errno, "poll");
  }
}

std::pair<Connection, Connection> Pipe(bool duplex) {
  int fds[2];
  if (duplex) {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      net::raise_os_error(errno, "socketpair");
    return {Connection(fds[0]), Connection(fds[1])};
  }
  if (::pipe2(fds, O_CLOEXEC) != 0) net::raise_os_error(errno, "pipe");
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

}  // namespace weft::mp

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  const msgpack::object& convert<weft::mp::Connection>::operator()(
      const msgpack::object& in, weft::mp::Connection& conn) const {
    if (in.type != msgpack::type::ARRAY || in.via.array.size != 3) throw msgpack::type_error();
    const auto descriptor = in.via.array.ptr[0].as<weft::mp::detail::DupFd>();
    const bool readable = in.via.array.ptr[1].as<bool>();
    const bool writable = in.via.array.ptr[2].as<bool>();
    if (!readable && !writable)
      throw weft::codec::DecodeError("a Connection must be readable or writable");
    conn = weft::mp::Connection(descriptor.detach(), readable, writable);
    return in;
  }

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
