// StreamServer (weft/green/server.hpp): an accepting greenlet that spawns a
// handler greenlet per connection, tracked in a Group so that stop() can
// wait for them and kill the stragglers.
#include "weft/green/server.hpp"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "weft/errors.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/pool.hpp"
#include "weft/green/sleep.hpp"
#include "weft/net/errors.hpp"

namespace weft::green {

// Shared by the server and its greenlets, which may outlive it.
struct StreamServer::State : std::enable_shared_from_this<State> {
  State(net::Address address, Handler handler, Pool* pool, int backlog)
      : address(std::move(address)), handler(std::move(handler)), pool(pool), backlog(backlog) {}

  void listen();
  void accept_loop();
  void spawn_handler(socket connection, net::Address peer);
  void close() noexcept;

  net::Address address;
  Handler handler;
  Pool* pool;
  int backlog;
  std::optional<socket> listener;
  Group handlers;
  AnyGreenlet acceptor;
  Event closed_event;
  bool started = false;
  bool closed = false;
};

namespace {

constexpr StreamServer::Seconds kMinDelay{0.01};
constexpr StreamServer::Seconds kMaxDelay{1.0};

// Closes the connection when its handler is done, however it ends.
struct CloseWhenDone {
  socket& connection;
  ~CloseWhenDone() { connection.close(); }
};

}  // namespace

void StreamServer::State::listen() {
  if (!listener) {
    socket sock(address.family(), SOCK_STREAM);
    sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    sock.bind(address);
    listener.emplace(std::move(sock));
  }
  // listen() again on a listening socket only sets the backlog.
  listener->listen(backlog);
  // The acceptor waits as long as the server is idle, whatever timeout the
  // socket was made with (net::setdefaulttimeout) or given.
  listener->setblocking(true);
  address = listener->getsockname();
}

void StreamServer::State::spawn_handler(socket connection, net::Address peer) {
  Greenlet<void> g([state = shared_from_this(), connection = std::move(connection),
                    peer = std::move(peer)]() mutable {
    CloseWhenDone done{connection};
    state->handler(connection, std::move(peer));
  });
  if (pool != nullptr) pool->add(g);
  handlers.start(g);
}

void StreamServer::State::accept_loop() {
  StreamServer::Seconds delay = kMinDelay;
  while (!closed) {
    try {
      auto [connection, peer] = listener->accept();
      delay = kMinDelay;
      spawn_handler(std::move(connection), std::move(peer));
    } catch (const net::OSError& error) {
      if (closed) return;
      std::fprintf(stderr, "weft: StreamServer %s: accept failed: %s; retrying in %g s\n",
                   address.to_string().c_str(), error.what(), delay.count());
      green::sleep(delay);
      delay = std::min(delay * 2, kMaxDelay);
    }
  }
}

void StreamServer::State::close() noexcept {
  if (closed) return;
  closed = true;
  // (close() never runs in the acceptor, which only accepts and spawns.)
  if (!acceptor.empty() && !acceptor.ready()) {
    try {
      acceptor.kill(nullptr, false);
    } catch (...) {
      // The acceptor ends anyway: its listener is closed below.
    }
  }
  if (listener) listener->close();
  closed_event.set();
}

StreamServer::StreamServer(net::Address address, Handler handler, Pool* pool, int backlog)
    : state_(std::make_shared<State>(std::move(address), std::move(handler), pool, backlog)) {}

StreamServer::StreamServer(socket listener, Handler handler, Pool* pool, int backlog)
    : state_(std::make_shared<State>(listener.getsockname(), std::move(handler), pool, backlog)) {
  state_->listener.emplace(std::move(listener));
}

StreamServer::~StreamServer() { close(); }

void StreamServer::start() {
  State& state = *state_;
  if (state.started) throw RuntimeError("StreamServer already started");
  if (state.closed) throw RuntimeError("StreamServer is closed");
  state.listen();
  state.started = true;
  state.acceptor = spawn([keep = state_] { keep->accept_loop(); });
}

void StreamServer::serve_forever(Seconds stop_timeout) {
  if (!state_->started) start();
  struct StopAfter {
    StreamServer& server;
    Seconds timeout;
    ~StopAfter() {
      try {
        server.stop(timeout);
      } catch (...) {
        server.close();  // interrupted while stopping: at least stop accepting
      }
    }
  } stop_after{*this, stop_timeout};
  state_->closed_event.wait();
}

void StreamServer::stop(Seconds timeout) {
  close();
  State& state = *state_;
  if (state.handlers.join(timeout)) return;
  state.handlers.kill(nullptr, true, kStopTimeout);
}

void StreamServer::close() noexcept { state_->close(); }

bool StreamServer::started() const noexcept { return state_->started; }

bool StreamServer::closed() const noexcept { return state_->closed; }

net::Address StreamServer::address() const { return state_->address; }

std::size_t StreamServer::handler_count() const noexcept { return state_->handlers.size(); }

}  // namespace weft::green
