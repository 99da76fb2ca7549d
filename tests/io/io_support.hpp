// Helpers for the io tests: fd counting, socket pairs, a loopback listener,
// and an echo client driven by an io::Loop.
#pragma once

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// Connects through the loop, sends its payload (in pieces as the socket
// takes them) while reading the echo, and closes once every byte is back.
class EchoClient {
 public:
  EchoClient(io::Loop& loop, sockaddr_in address, std::string payload)
      : loop_(loop), address_(address), payload_(std::move(payload)), echoed_(payload_.size(), '\0') {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    loop_.connect(connecting_, fd_, reinterpret_cast<const sockaddr*>(&address_), sizeof address_);
  }
  ~EchoClient() {
    if (fd_ >= 0) loop_.close(fd_);
  }
  bool done() const { return done_; }
  int error() const { return error_; }
  bool echoed_everything() const { return received_ == payload_.size() && echoed_ == payload_; }

 private:
  struct Op : io::Operation {
    Op(EchoClient* c, Handler h) : Operation(h), client(c) {}
    EchoClient* client;
  };
  static EchoClient& of(io::Operation& op) { return *static_cast<Op&>(op).client; }

  static void on_connect(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    c.send_more();
    c.receive_more();
  }
  static void on_sent(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    c.sent_ += static_cast<std::size_t>(result);
    c.send_more();
  }
  static void on_received(io::Operation& op, int result, std::uint32_t) noexcept {
    EchoClient& c = of(op);
    if (result < 0) return c.fail(-result);
    if (result == 0) return c.fail(ECONNRESET);
    c.received_ += static_cast<std::size_t>(result);
    if (c.received_ == c.payload_.size()) {
      c.done_ = true;
      c.loop_.close(std::exchange(c.fd_, -1));
      return;
    }
    c.receive_more();
  }
  void send_more() {
    if (sent_ < payload_.size())
      loop_.send(sending_, fd_, std::as_bytes(std::span(payload_).subspan(sent_, std::min<std::size_t>(payload_.size() - sent_, 100'000))));
  }
  void receive_more() {
    loop_.recv(receiving_, fd_, std::as_writable_bytes(std::span(echoed_).subspan(received_)));
  }
  void fail(int error) {
    if (done_) return;
    error_ = error;
    done_ = true;
    loop_.close(std::exchange(fd_, -1));
  }

  io::Loop& loop_;
  sockaddr_in address_;
  std::string payload_;
  std::string echoed_;
  int fd_ = -1;
  std::size_t sent_ = 0, received_ = 0;
  int error_ = 0;
  bool done_ = false;
  Op connecting_{this, &on_connect};
  Op sending_{this, &on_sent};
  Op receiving_{this, &on_received};
};

}  // namespace weft::test
