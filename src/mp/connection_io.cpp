// weft::mp::Connection's messages: Python's framing (a 4-byte big-endian
// length, or -1 and an 8-byte length for messages over 0x7fffffff bytes),
// sent with one write and received into memory that grows only as
// the bytes arrive.
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <system_error>

#include "weft/mp/connection.hpp"
#include "weft/mp/errors.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp {

namespace {

constexpr std::uint64_t kLargestShortLength = 0x7fffffff;
// Memory committed to a message before any of its bytes arrived; beyond
// this the buffer grows (doubling) only as bytes come in.
constexpr std::size_t kTrustedLength = std::size_t{256} << 10;
// Payloads up to this size are sent from one buffer with their header.
constexpr std::size_t kCopiedPayload = 512;

[[noreturn]] void throw_truncated() {
  throw net::OSError(std::error_code(EPROTO, std::generic_category()),
                     "got end of file during message");
}

void put_be32(unsigned char* out, std::uint32_t value) {
  for (int i = 3; i >= 0; --i, value >>= 8) out[i] = static_cast<unsigned char>(value);
}

void put_be64(unsigned char* out, std::uint64_t value) {
  for (int i = 7; i >= 0; --i, value >>= 8) out[i] = static_cast<unsigned char>(value);
}

std::uint64_t get_be(const std::byte* in, int size) {
  std::uint64_t value = 0;
  for (int i = 0; i < size; ++i) value = value << 8 | std::to_integer<std::uint64_t>(in[i]);
  return value;
}

// Drops the iovecs, or parts of one, that `sent` bytes covered.
void advance(iovec*& iov, int& count, std::size_t sent) {
  while (count > 0 && sent >= iov->iov_len) {
    sent -= iov->iov_len;
    ++iov;
    --count;
  }
  if (count > 0) {
    iov->iov_base = static_cast<char*>(iov->iov_base) + sent;
    iov->iov_len -= sent;
  }
}

// Writes every iovec to a socket; MSG_NOSIGNAL keeps SIGPIPE away.
void send_all_socket(int fd, iovec* iov, int count) {
  msghdr message{};
  while (count > 0) {
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<std::size_t>(count);
    const ssize_t sent = count == 1 ? ::send(fd, iov->iov_base, iov->iov_len, MSG_NOSIGNAL)
                                    : ::sendmsg(fd, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      net::raise_os_error(errno, "");
    }
    advance(iov, count, static_cast<std::size_t>(sent));
  }
}

// Writes every iovec to a pipe with SIGPIPE blocked in this thread, taking
// back the SIGPIPE a write to a reader-less pipe raised.
void send_all_pipe(int fd, iovec* iov, int count) {
  sigset_t pipe_signal, saved;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &saved);
  int error = 0;
  while (count > 0) {
    const ssize_t sent = count == 1 ? ::write(fd, iov->iov_base, iov->iov_len)
                                    : ::writev(fd, iov, count);
    if (sent < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    advance(iov, count, static_cast<std::size_t>(sent));
  }
  if (error == EPIPE && !sigismember(&saved, SIGPIPE)) {
    const timespec now{0, 0};
    while (::sigtimedwait(&pipe_signal, nullptr, &now) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &saved, nullptr);
  if (error != 0) net::raise_os_error(error, "");
}

}  // namespace

void Connection::send_bytes(std::span<const std::byte> data, std::size_t offset,
                            std::optional<std::size_t> size) {
  check_writable();
  if (offset > data.size()) throw ValueError("buffer length < offset");
  if (size && *size > data.size() - offset) throw ValueError("buffer length < offset + size");
  send_frame(data.subspan(offset, size.value_or(data.size() - offset)));
}

void Connection::send_frame(std::span<const std::byte> payload) {
  // A small payload is copied after its header, so that the kernel gets one
  // plain buffer (send/write are cheaper than their gathering forms).
  unsigned char frame[12 + kCopiedPayload];
  std::size_t header_size = 4;
  if (payload.size() > kLargestShortLength) {
    put_be32(frame, 0xffffffffu);
    put_be64(frame + 4, payload.size());
    header_size = 12;
  } else {
    put_be32(frame, static_cast<std::uint32_t>(payload.size()));
  }
  iovec iov[2] = {{frame, header_size},
                  {const_cast<std::byte*>(payload.data()), payload.size()}};
  int count = 2;
  if (payload.size() <= kCopiedPayload) {
    if (!payload.empty()) std::memcpy(frame + header_size, payload.data(), payload.size());
    iov[0].iov_len += payload.size();
    count = 1;
  }
  if (is_socket_)
    send_all_socket(fd_, iov, count);
  else
    send_all_pipe(fd_, iov, count);
}

std::size_t Connection::read_some(std::byte* out, std::size_t size) {
  wait_readable();
  while (true) {
    const ssize_t got = ::read(fd_, out, size);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) net::raise_os_error(errno, "");
  }
}

void Connection::recv_exactly(std::byte* out, std::size_t size, bool at_boundary) {
  std::size_t got = 0;
  while (got < size) {
    const std::size_t n = read_some(out + got, size - got);
    if (n == 0) {
      if (at_boundary && got == 0) throw EOFError("the other end of the connection is closed");
      throw_truncated();
    }
    got += n;
  }
}

std::size_t Connection::recv_header(std::optional<std::size_t> maxlength) {
  std::byte header[8];
  recv_exactly(header, 4, true);
  std::uint64_t size = get_be(header, 4);
  if (size == 0xffffffffu) {
    recv_exactly(header, 8, false);
    size = get_be(header, 8);
  } else if (size > kLargestShortLength) {
    bad_message_length();  // negative as Python's signed "!i"
  }
  if (size > std::string().max_size() || (maxlength && size > *maxlength))
    bad_message_length();
  return static_cast<std::size_t>(size);
}

std::string Connection::recv_payload(std::size_t size) {
  std::string payload(std::min(size, kTrustedLength), '\0');
  std::size_t got = 0;
  while (got < size) {
    if (got == payload.size())
      payload.resize(payload.size() > size / 2 ? size : payload.size() * 2);
    const std::size_t n =
        read_some(reinterpret_cast<std::byte*>(payload.data()) + got, payload.size() - got);
    if (n == 0) throw_truncated();
    got += n;
  }
  return payload;
}

void Connection::bad_message_length() {
  if (writable_)
    readable_ = false;
  else
    close();
  throw net::OSError(std::error_code(EMSGSIZE, std::generic_category()), "bad message length");
}

std::string Connection::recv_bytes(std::optional<std::size_t> maxlength) {
  check_readable();
  return recv_payload(recv_header(maxlength));
}

std::size_t Connection::recv_bytes_into(std::span<std::byte> buffer, std::size_t offset) {
  check_readable();
  if (offset > buffer.size()) throw ValueError("offset too large");
  const std::size_t size = recv_header(std::nullopt);
  if (size > buffer.size() - offset) throw BufferTooShort(recv_payload(size));
  recv_exactly(buffer.data() + offset, size, false);
  return size;
}

}  // namespace weft::mp
