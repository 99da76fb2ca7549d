// A small HTTP/1.1 server on a thread of its own (epoll, one thread) that
// answers every request `delay` after it arrived, for the tests that prove
// monkey patching with real client libraries. Each response is
// "200 OK", body "hello", Connection: close.
#pragma once

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

namespace weft::green::test {

class DelayHttpServer {
 public:
  using Clock = std::chrono::steady_clock;

  explicit DelayHttpServer(std::chrono::milliseconds delay) : delay_(delay) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        ::listen(listener_, 4096) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0)
      throw std::runtime_error("DelayHttpServer: cannot listen");
    port_ = ntohs(address.sin_port);
    stop_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    watch(listener_);
    watch(stop_);
    thread_ = std::thread([this] { serve(); });
  }

  ~DelayHttpServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stop_, &one, sizeof one);
    thread_.join();
    for (auto& [fd, connection] : connections_) ::close(fd);
    ::close(epoll_);
    ::close(stop_);
    ::close(listener_);
  }

  DelayHttpServer(const DelayHttpServer&) = delete;
  DelayHttpServer& operator=(const DelayHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  int answered() const { return answered_.load(); }

 private:
  struct Connection {
    std::string request;
    Clock::time_point answer_at = Clock::time_point::max();
  };

  void watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }

  void serve() {
    for (;;) {
      answer_due();
      epoll_event events[64];
      const int n = ::epoll_wait(epoll_, events, 64, wait_ms());
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_) return;
        if (fd == listener_) {
          accept_all();
        } else {
          read_request(fd);
        }
      }
    }
  }

  int wait_ms() const {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [fd, connection] : connections_) next = std::min(next, connection.answer_at);
    if (next == Clock::time_point::max()) return -1;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(next - Clock::now()).count();
    return static_cast<int>(std::max<long long>(left, 0));
  }

  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      connections_[fd];
      watch(fd);
    }
  }

  void read_request(int fd) {
    Connection& connection = connections_[fd];
    char buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) return;
      forget(fd);
      return;
    }
    connection.request.append(buffer, static_cast<std::size_t>(n));
    if (connection.answer_at == Clock::time_point::max() && connection.request.find("\r\n\r\n") != std::string::npos)
      connection.answer_at = Clock::now() + delay_;
  }

  void answer_due() {
    const Clock::time_point now = Clock::now();
    for (auto it = connections_.begin(); it != connections_.end();) {
      if (it->second.answer_at > now) {
        ++it;
        continue;
      }
      static constexpr char kResponse[] =
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
      // Counted before it goes out: a client holding its answer finds it counted.
      answered_.fetch_add(1);
      [[maybe_unused]] const ssize_t n = ::send(it->first, kResponse, sizeof kResponse - 1, MSG_NOSIGNAL);
      ::close(it->first);
      it = connections_.erase(it);
    }
  }

  void forget(int fd) {
    ::close(fd);
    connections_.erase(fd);
  }

  std::chrono::milliseconds delay_;
  int listener_ = -1;
  int stop_ = -1;
  int epoll_ = -1;
  std::uint16_t port_ = 0;
  std::map<int, Connection> connections_;
  std::atomic<int> answered_{0};
  std::thread thread_;
};

}  // namespace weft::green::test
