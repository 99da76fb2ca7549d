// A server's state: accepting on its listening sockets, a handler task per
// connection, the connections it counts, and closing.
#include "server_state.hpp"

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include "stream_transport.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/stream_writer.hpp"
#include "weft/errors.hpp"
#include "weft/io/loop.hpp"

namespace weft::aio::detail {

namespace {

// Python's ACCEPT_RETRY_DELAY: how long a listener rests after an accept
// failed for want of resources (EMFILE...).
constexpr std::chrono::seconds kAcceptRetryDelay{1};

struct ReleaseServer {
  void operator()(ServerState* server) const noexcept { server->release(); }
};
// An internal reference, for the frame of a handler task.
using ServerRef = std::unique_ptr<ServerState, ReleaseServer>;

ServerRef hold(ServerState& server) noexcept {
  server.add_ref();
  return ServerRef(&server);
}

// The task of one connection: the handler, and Python's done callback of
// start_server — an exception is reported and closes the connection, and
// so does a cancellation.
Task<void> serve_client(ServerRef server, StreamReader reader, StreamWriter writer) {
  std::exception_ptr failure;
  try {
    co_await server->handler()(std::move(reader), writer);
  } catch (const weft::CancelledError&) {
    writer.close();
    throw;
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    server->loop().call_exception_handler({"Unhandled exception in client_connected_cb", failure, current_task()});
    writer.close();
  }
}

// Accept failures that concern one client only, or none.
bool transient(int error) noexcept {
  return error == ECONNABORTED || error == EAGAIN || error == EINTR || error == EPROTO || error == EPERM;
}

}  // namespace

void counted_add_ref(ServerState* server) noexcept { server->add_handle(); }
void counted_release(ServerState* server) noexcept { server->release_handle(); }

ServerState::ServerState(EventLoop& loop, ClientHandler handler, std::size_t limit)
    : loop_(loop), handler_(std::move(handler)), limit_(limit) {}

void ServerState::listen(net::Socket socket) {
  const net::Address bound = socket.getsockname();
  auto listener = std::make_unique<Listener>(*this, -1, bound);
  listeners_.reserve(listeners_.size() + 1);
  listener->fd = socket.detach();
  if (listeners_.empty()) port_ = bound.port();
  listeners_.push_back(std::move(listener));
}

// ---- the counts ------------------------------------------------------------

void ServerState::release_handle() noexcept {
  if (--handles_ == 0) close();
  settle();
}

void ServerState::release() noexcept {
  --refs_;
  settle();
}

void ServerState::settle() noexcept {
  if (handles_ > 0 || refs_ > 0) return;
  for (const auto& listener : listeners_)
    if (listener->pending() || listener->retry.scheduled()) return;
  delete this;
}

// ---- accepting ---------------------------------------------------------------

void ServerState::start_serving() {
  if (closed_) throw RuntimeError("the server is closed");
  if (serving_) return;
  serving_ = true;
  for (const auto& listener : listeners_) accept_on(*listener);
}

void ServerState::accept_on(Listener& listener) noexcept {
  if (!listener.pending() && !listener.retry.scheduled()) loop_.io().accept_multishot(listener, listener.fd);
}

void ServerState::on_accepted(io::Operation& op, int result, std::uint32_t flags) noexcept {
  auto& listener = static_cast<Listener&>(op);
  ServerState& server = *listener.server;
  server.add_ref();  // what the handler does may drop every other reference
  if (result >= 0) {
    // An accept that completed while close() cancelled it.
    if (server.closed_) server.loop_.io().close(result);
    else server.accepted(result, listener.tcp);
  }
  if ((flags & io::kMore) == 0 && !server.closed_) {
    if (result < 0 && result != -ECANCELED && !transient(-result)) server.accept_failed(listener, -result);
    else server.accept_on(listener);
  }
  server.release();
}

void ServerState::accepted(int fd, bool tcp) noexcept {
  try {
    StreamTransport* transport = StreamTransport::open(loop_, fd, limit_, tcp, this);
    StreamReader reader(transport);
    StreamWriter writer(transport);
    loop_.create_task(serve_client(hold(*this), std::move(reader), std::move(writer)));
  } catch (...) {
    // Python logs the failure of a connection's setup and goes on serving.
    loop_.call_exception_handler({"Error setting up a connection", std::current_exception(), {}});
  }
}

void ServerState::accept_failed(Listener& listener, int error) noexcept {
  // Python rests the listener for a second when accept() runs out of
  // resources, and reports the error.
  loop_.call_exception_handler({"socket.accept() out of system resource", os_error(error, "accept"), {}});
  io::Loop& io = loop_.io();
  io.start_timer(listener.retry, io.now() + kAcceptRetryDelay);
}

void ServerState::on_retry(io::Timer& timer) noexcept {
  Listener& listener = *static_cast<RetryTimer&>(timer).listener;
  ServerState& server = *listener.server;
  server.add_ref();
  if (!server.closed_) server.accept_on(listener);
  server.release();
}

// ---- closing -------------------------------------------------------------------

void ServerState::close() noexcept {
  if (closed_) return;
  closed_ = true;
  serving_ = false;
  for (const auto& listener : listeners_) {
    loop_.io().cancel_timer(listener->retry);
    // An io_uring accept holds the socket open until its cancellation has
    // ended; shutting it down stops the listening now, as Python's close
    // does.
    ::shutdown(listener->fd, SHUT_RDWR);
    loop_.io().close(std::exchange(listener->fd, -1));
  }
  forever_waiters_.notify_all();
  if (active_ == 0) close_waiters_.notify_all();
}

std::vector<CountedRef<StreamTransport>> ServerState::connections() {
  std::vector<CountedRef<StreamTransport>> held;
  held.reserve(active_);
  for (StreamTransport* transport = connections_; transport != nullptr; transport = transport->server_next_)
    held.emplace_back(transport);
  return held;
}

void ServerState::close_clients() {
  for (const auto& transport : connections()) transport->close();
}

void ServerState::abort_clients() {
  for (const auto& transport : connections()) transport->force_close(nullptr);
}

std::vector<net::Address> ServerState::addresses() const {
  std::vector<net::Address> bound;
  if (closed_) return bound;
  for (const auto& listener : listeners_) bound.push_back(listener->address);
  return bound;
}

// ---- the connections -------------------------------------------------------------

void ServerState::attach(StreamTransport& transport) noexcept {
  transport.server_prev_ = nullptr;
  transport.server_next_ = connections_;
  if (connections_ != nullptr) connections_->server_prev_ = &transport;
  connections_ = &transport;
  ++active_;
  add_ref();
}

void ServerState::detach(StreamTransport& transport) noexcept {
  if (transport.server_prev_ != nullptr) transport.server_prev_->server_next_ = transport.server_next_;
  else connections_ = transport.server_next_;
  if (transport.server_next_ != nullptr) transport.server_next_->server_prev_ = transport.server_prev_;
  transport.server_prev_ = transport.server_next_ = nullptr;
  if (--active_ == 0 && closed_) close_waiters_.notify_all();
  release();
}

}  // namespace weft::aio::detail
