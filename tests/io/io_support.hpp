// Helpers for the io tests: fd counting, socket pairs, a loopback listener,
// and an echo client driven by an io::Loop.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "threading/test_support.hpp"
#include "weft/io.hpp"

namespace weft::test {

// Entries of /proc/self/fd (the directory's own fd excluded).
inline int open_fd_count() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(dir))
    if (entry->d_name[0] != '.') ++count;
  ::closedir(dir);
  return count - 1;
}

inline void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0) << "send: " << std::strerror(errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    a = fds[0];
    b = fds[1];
  }
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
  int release_b() { return std::exchange(b, -1); }
  int a = -1, b = -1;
};

// A TCP listener on 127.0.0.1 at an ephemeral port.
struct Listener {
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    EXPECT_EQ(::listen(fd, 1024), 0);
  }
  ~Listener() { close(); }
  void close() {
    if (fd >= 0) ::close(std::exchange(fd, -1));
  }
  sockaddr_in address() const {
    sockaddr_in bound{};
    socklen_t length = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
    return bound;
  }
  int fd = -1;
};

// A blocking connect; returns the fd.
inline int connect_to(const sockaddr_in& address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  EXPECT_EQ(::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
  return fd;
}

// How an EchoClient leaves.
enum class Ending { close, half_close, reset };

// A client driven by an io::Loop: connects, sends `payload` in random
// pieces while it reads, expects `expected` back, and ends as `ending`
// says — closing, half-closing (then waiting for the server's end of
// stream) or resetting right after its first piece.
class EchoClient {
 public:
  EchoClient(io::Loop& loop, sockaddr_in address, std::string payload, std::string expected,
             Ending ending = Ending::close, std::uint32_t seed = 1)
      : loop_(loop), address_(address), payload_(std::move(payload)), expected_(std::move(expected)),
        received_(expected_.size(), '\0'), ending_(ending), random_(seed) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    loop_.connect(connecting_, fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
  }
  ~EchoClient() { finish(); }

  bool done() const { return done_; }
  // "ok", or what went wrong.
  std::string verdict() const {
    if (ending_ == Ending::reset) return "ok";
    if (error_ != 0) return "error " + std::to_string(error_) + " after " + std::to_string(got_) + " bytes";
    if (got_ != expected_.size()) return "got " + std::to_string(got_) + " of " + std::to_string(expected_.size());
    if (received_ != expected_) return "bytes differ";
    if (ending_ == Ending::half_close && !saw_eof_) return "no end of stream after the half-close";
    return "ok";
  }

 private:
  struct Op : io::Operation {
    Op(EchoClient* c, Handler h) : Operation(h), client(c) {}
    EchoClient* client;
  };
  static EchoClient& of(io::Operation& op) { return *static_cast<Op&>(op).client; }

  static void on_connect(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    const int one = 1;
    ::setsockopt(c.fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.send_more();
    c.receive_more();
  }
  static void on_sent(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    c.sent_ += static_cast<std::size_t>(result);
    if (c.ending_ == Ending::reset) {
      const linger abort{1, 0};
      ::setsockopt(c.fd_, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
      return c.finish();
    }
    if (c.sent_ == c.payload_.size() && c.ending_ == Ending::half_close) ::shutdown(c.fd_, SHUT_WR);
    c.send_more();
  }
  static void on_received(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    if (result == 0) {
      c.saw_eof_ = true;
      if (c.got_ < c.expected_.size()) c.error_ = -1;
      return c.finish();
    }
    c.got_ += static_cast<std::size_t>(result);
    if (c.got_ == c.expected_.size() && c.ending_ == Ending::close) return c.finish();
    c.receive_more();
  }

  void send_more() {
    if (sent_ == payload_.size() || done_) return;
    const std::size_t piece = std::min(payload_.size() - sent_, std::uniform_int_distribution<std::size_t>(1, 9000)(random_));
    loop_.send(sending_, fd_, std::as_bytes(std::span(payload_).subspan(sent_, piece)));
  }
  void receive_more() {
    if (done_) return;
    // After every expected byte, a half-closing client waits for the end of stream.
    auto room = std::as_writable_bytes(std::span(received_).subspan(got_));
    loop_.recv(receiving_, fd_, room.empty() ? std::as_writable_bytes(std::span(spare_)) : room);
  }
  void fail(int error) {
    if (done_) return;
    error_ = error;
    finish();
  }
  void finish() {
    if (fd_ >= 0) loop_.close(std::exchange(fd_, -1));
    done_ = true;
  }

  io::Loop& loop_;
  sockaddr_in address_;
  std::string payload_, expected_, received_;
  char spare_[64];
  Ending ending_;
  std::mt19937 random_;
  int fd_ = -1;
  std::size_t sent_ = 0, got_ = 0;
  int error_ = 0;
  bool saw_eof_ = false, done_ = false;
  Op connecting_{this, &on_connect};
  Op sending_{this, &on_sent};
  Op receiving_{this, &on_received};
};

}  // namespace weft::test
