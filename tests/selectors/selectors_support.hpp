// Helpers shared by the selectors tests: owned descriptors, socket pairs and loopback TCP made
// with plain syscalls, descriptor counting, and the typed-test list of the three selectors.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>
#include <weft/selectors.hpp>

#include <any>
#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "threading/test_support.hpp"

namespace weft::test {

namespace sel = weft::selectors;
using sel::EVENT_READ;
using sel::EVENT_WRITE;

// An owned descriptor. It has fileno(), so it is also a "file object": once closed, fileno() is -1,
// as for a closed Python socket.
class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  int fileno() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

inline void check_sys(bool ok, const char* call) {
  if (!ok) throw std::system_error(errno, std::generic_category(), call);
}

// A connected AF_UNIX stream pair, blocking, like CPython's make_socketpair().
struct SocketPair {
  Fd a;
  Fd b;
};

inline SocketPair socket_pair() {
  int fds[2];
  check_sys(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0, "socketpair");
  return {Fd(fds[0]), Fd(fds[1])};
}

inline void send_text(const Fd& fd, const std::string& text) {
  check_sys(::send(fd.get(), text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size()),
            "send");
}

inline std::string recv_text(const Fd& fd, std::size_t most = 256) {
  std::string buf(most, '\0');
  const ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  check_sys(n >= 0, "recv");
  buf.resize(static_cast<std::size_t>(n));
  return buf;
}

// A copy of `fd` numbered at least `lowest`.
inline Fd dup_at_least(const Fd& fd, int lowest) {
  const int copy = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, lowest);
  check_sys(copy >= 0, "fcntl(F_DUPFD_CLOEXEC)");
  return Fd(copy);
}

// A listening loopback TCP socket on an ephemeral port, non-blocking.
inline Fd tcp_listener(sockaddr_in& address) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  check_sys(fd.get() >= 0, "socket");
  address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  check_sys(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0, "bind");
  check_sys(::listen(fd.get(), 16) == 0, "listen");
  socklen_t len = sizeof address;
  check_sys(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &len) == 0, "getsockname");
  return fd;
}

// A non-blocking TCP socket whose connect to `address` is under way (or done).
inline Fd tcp_connecting(const sockaddr_in& address) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  check_sys(fd.get() >= 0, "socket");
  const int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
  check_sys(rc == 0 || errno == EINPROGRESS, "connect");
  return fd;
}

// How many descriptors this process has open.
inline std::size_t open_fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Raises the soft RLIMIT_NOFILE so that `needed` descriptors may be open; false if the hard limit
// is too low.
inline bool allow_open_fds(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= needed) return true;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < needed) return false;
  limit.rlim_cur = needed;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

// The typed-test parameters: each names one selector template and what it can watch.
struct UseSelect {
  template <class Data>
  using type = sel::SelectSelector<Data>;
  static constexpr bool kBelowFdSetsize = true;
  static constexpr const char* kName = "Select";
};
struct UsePoll {
  template <class Data>
  using type = sel::PollSelector<Data>;
  static constexpr bool kBelowFdSetsize = false;
  static constexpr const char* kName = "Poll";
};
struct UseEpoll {
  template <class Data>
  using type = sel::EpollSelector<Data>;
  static constexpr bool kBelowFdSetsize = false;
  static constexpr const char* kName = "Epoll";
};

using AllSelectors = ::testing::Types<UseSelect, UsePoll, UseEpoll>;

struct SelectorName {
  template <class P>
  static std::string GetName(int) {
    return P::kName;
  }
};

template <class P, class Data = std::any>
using SelectorOf = typename P::template type<Data>;

// Checks that a test closes every descriptor it opens, selectors' own included.
template <class P>
class SelectorTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fd_count(); }
  void TearDown() override { EXPECT_EQ(open_fd_count(), fds_before_) << "a descriptor leaked"; }

 private:
  std::size_t fds_before_ = 0;
};

}  // namespace weft::test
