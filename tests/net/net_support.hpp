// Helpers shared by the net tests: a fixture that catches descriptor leaks, connected loopback
// pairs, a temporary directory and fresh abstract Unix names.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <weft/net.hpp>

#include <atomic>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "threading/test_support.hpp"

namespace weft::test {

// How many descriptors this process has open.
inline int open_fds() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

inline bool is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1; }

inline bool is_nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

// Fails a test that leaves more descriptors open than it found.
class NetTest : public ::testing::Test {
 protected:
  void SetUp() override { fds_before_ = open_fds(); }
  void TearDown() override { EXPECT_EQ(open_fds(), fds_before_) << "a descriptor leaked"; }

 private:
  int fds_before_ = 0;
};

// Restores the module-wide default timeout when it goes out of scope.
class DefaultTimeoutGuard {
 public:
  DefaultTimeoutGuard() : saved_(net::getdefaulttimeout()) {}
  ~DefaultTimeoutGuard() { net::setdefaulttimeout(saved_); }

 private:
  std::optional<std::chrono::nanoseconds> saved_;
};

// The two ends of one TCP connection over loopback; both in timeout mode with kPatience, so a test
// that goes wrong fails instead of hanging.
struct TcpPair {
  net::Socket client;
  net::Socket server;
};

inline TcpPair tcp_pair(const net::Address& where = net::Address::ipv4("127.0.0.1", 0)) {
  net::Socket listener = net::create_server(where);
  net::Socket client = net::create_connection(listener.getsockname(), kPatience);
  listener.settimeout(kPatience);
  net::Socket server = listener.accept().first;
  server.settimeout(kPatience);
  return {std::move(client), std::move(server)};
}

// A loopback port nothing listens on: a socket keeps it bound without listening, so a connect
// there is refused and no other test can take the port meanwhile.
struct RefusingPort {
  net::Socket holder{AF_INET, SOCK_STREAM};
  net::Address address;
  RefusingPort() {
    holder.bind(net::Address::ipv4("127.0.0.1", 0));
    address = holder.getsockname();
  }
};

// A fresh directory under the system's temporary directory, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "weft-net-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A Linux abstract socket name no other test or process uses.
inline std::string abstract_name() {
  static std::atomic<int> counter{0};
  return std::string(1, '\0') + "weft-net-test-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace weft::test
