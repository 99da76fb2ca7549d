// A small epoll echo/http server for the load generator's tests, run on its
// own thread on 127.0.0.1 (an ephemeral port). Its faults are switchable:
// it can corrupt every reply, or close each connection once it has read a
// given number of bytes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "weft/protocol.hpp"

namespace weft::tool::testing {

class TestServer {
 public:
  // mute_odd: echoes on the 1st, 3rd, 5th... connection accepted, never
  // answers the others (it reads and drops what they send).
  enum class Mode { echo, http, corrupt, close_after, mute_odd };

  explicit TestServer(Mode mode, std::size_t close_after_bytes = 0)
      : mode_(mode), close_after_(close_after_bytes) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_, 1024) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      throw std::runtime_error("test server: cannot listen");
    }
    port_ = ntohs(addr.sin_port);
    stop_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    add(listener_, EPOLLIN);
    add(stop_, EPOLLIN);
    thread_ = std::thread([this] { serve(); });
  }

  ~TestServer() {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(stop_, &one, sizeof one);
    thread_.join();
    for (auto& [fd, state] : connections_) ::close(fd);
    ::close(epoll_);
    ::close(stop_);
    ::close(listener_);
  }

  std::uint16_t port() const { return port_; }

 private:
  struct State {
    std::string pending;
    std::size_t received = 0;
    HttpRequestCounter requests;
    bool muted = false;
  };

  void add(int fd, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
  }

  void drop(int fd) {
    ::close(fd);
    connections_.erase(fd);
  }

  // Bounded: the destructor's stop event ends it.
  void serve() {
    epoll_event events[64];
    for (;;) {
      const int ready = ::epoll_wait(epoll_, events, 64, 1000);
      for (int i = 0; i < ready; ++i) {
        const int fd = events[i].data.fd;
        if (fd == stop_) return;
        if (fd == listener_) {
          for (int accepted = 0; accepted < 64; ++accepted) {
            const int c = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (c < 0) break;
            connections_[c].muted = mode_ == Mode::mute_odd && accepted_++ % 2 == 1;
            add(c, EPOLLIN | EPOLLOUT | EPOLLET);
          }
          continue;
        }
        on_ready(fd);
      }
    }
  }

  void on_ready(int fd) {
    auto it = connections_.find(fd);
    if (it == connections_.end()) return;
    State& state = it->second;
    char buffer[16384];
    for (int reads = 0; reads < 1000; ++reads) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop(fd);
        return;
      }
      if (n < 0) break;
      state.received += static_cast<std::size_t>(n);
      if (state.muted) continue;
      if (mode_ == Mode::close_after && state.received >= close_after_) {
        drop(fd);
        return;
      }
      if (mode_ == Mode::http) {
        for (auto count = state.requests.feed({buffer, static_cast<std::size_t>(n)}); count > 0; --count) {
          state.pending += kHttpResponse;
        }
      } else {
        if (mode_ == Mode::corrupt) buffer[0] = static_cast<char>(buffer[0] ^ 0x5a);
        state.pending.append(buffer, static_cast<std::size_t>(n));
      }
    }
    while (!state.pending.empty()) {
      const ssize_t n = ::send(fd, state.pending.data(), state.pending.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN) return;  // EPOLLOUT (edge-triggered) brings us back
        drop(fd);
        return;
      }
      state.pending.erase(0, static_cast<std::size_t>(n));
    }
  }

  Mode mode_;
  std::size_t close_after_;
  int listener_ = -1;
  int stop_ = -1;
  int epoll_ = -1;
  std::uint16_t port_ = 0;
  std::map<int, State> connections_;
  int accepted_ = 0;
  std::thread thread_;
};

}  // namespace weft::tool::testing
