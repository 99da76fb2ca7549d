// src/aio/server_state.hpp — what a Server handle refers to: the listening
// sockets, each with a multishot accept, the handler, and the list of the
// connections the server accepted (for close_clients(), abort_clients() and
// wait_closed()).
//
// Two counts keep it: Server handles (the last one gone closes the server)
// and internal references — every connection it counts and every handler
// task holds one, since the handler (and what it captures) must live as
// long as they do. It frees itself when neither count is left and no accept
// is pending.
//
// Not thread-safe: the loop's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/server.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/timer.hpp"
#include "weft/net/address.hpp"
#include "weft/net/socket.hpp"

namespace weft::aio::detail {

class StreamTransport;

class ServerState {
 public:
  ServerState(EventLoop& loop, ClientHandler handler, std::size_t limit);
  ServerState(const ServerState&) = delete;
  ServerState& operator=(const ServerState&) = delete;

  // Adopts a bound, listening socket. Throws what allocating throws.
  void listen(net::Socket socket);

  EventLoop& loop() const noexcept { return loop_; }
  ClientHandler& handler() noexcept { return handler_; }

  // ---- the two counts -----------------------------------------------------
  void add_handle() noexcept { ++handles_; }
  void release_handle() noexcept;
  void add_ref() noexcept { ++refs_; }
  void release() noexcept;

  // ---- Server -------------------------------------------------------------
  void start_serving();
  void close() noexcept;
  void close_clients();
  void abort_clients();
  bool is_serving() const noexcept { return serving_; }
  bool is_closed() const noexcept { return closed_; }
  // wait_closed(): ready once closed with no connection left.
  bool closed_and_idle() const noexcept { return closed_ && active_ == 0; }
  WaitList& close_waiters() noexcept { return close_waiters_; }
  // serve_forever() waits here until close(); one task at a time.
  WaitList& forever_waiters() noexcept { return forever_waiters_; }
  bool serving_forever() const noexcept { return serving_forever_; }
  void set_serving_forever(bool serving) noexcept { serving_forever_ = serving; }
  std::vector<net::Address> addresses() const;
  std::uint16_t port() const noexcept { return port_; }

  // ---- connections (StreamTransport calls these) ---------------------------
  void attach(StreamTransport& transport) noexcept;
  void detach(StreamTransport& transport) noexcept;

 private:
  struct Listener;
  struct RetryTimer : io::Timer {
    explicit RetryTimer(Listener& owner) noexcept : io::Timer(&on_retry), listener(&owner) {}
    Listener* listener;
  };
  struct Listener : io::Operation {
    Listener(ServerState& owner, int socket, net::Address bound) noexcept
        : io::Operation(&on_accepted), server(&owner), fd(socket), address(bound),
          tcp(bound.family() == AF_INET || bound.family() == AF_INET6), retry(*this) {}
    ServerState* server;
    int fd;
    net::Address address;
    bool tcp;
    RetryTimer retry;  // takes accepting up again after an error
  };

  ~ServerState() = default;

  static void on_accepted(io::Operation& op, int result, std::uint32_t flags) noexcept;
  static void on_retry(io::Timer& timer) noexcept;

  void accept_on(Listener& listener) noexcept;
  void accepted(int fd, bool tcp) noexcept;
  void accept_failed(Listener& listener, int error) noexcept;
  // For close_clients/abort_clients: the connections, each held.
  std::vector<CountedRef<StreamTransport>> connections();
  // Frees the server once nothing refers to it. Only as the last thing a
  // handler or a release does.
  void settle() noexcept;

  EventLoop& loop_;
  ClientHandler handler_;
  std::size_t limit_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::uint16_t port_ = 0;
  StreamTransport* connections_ = nullptr;  // intrusive list through server_prev_/server_next_
  std::size_t active_ = 0;
  std::uint32_t handles_ = 0;
  std::uint32_t refs_ = 0;
  WaitList close_waiters_;
  WaitList forever_waiters_;
  bool serving_ = false;
  bool serving_forever_ = false;
  bool closed_ = false;
};

}  // namespace weft::aio::detail
