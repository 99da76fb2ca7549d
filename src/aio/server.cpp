// aio::Server, the handle, and start_server(): resolving the host, binding
// its addresses, serving.
#include "weft/aio/server.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

#include "resolve.hpp"
#include "server_state.hpp"
#include "stream_transport.hpp"
#include "weft/aio/streams.hpp"
#include "weft/errors.hpp"
#include "weft/net/connection.hpp"
#include "weft/net/errors.hpp"

namespace weft::aio {

// ---- Server -----------------------------------------------------------------------

void Server::close() { server_->close(); }
void Server::close_clients() { server_->close_clients(); }
void Server::abort_clients() { server_->abort_clients(); }
void Server::start_serving() { server_->start_serving(); }
bool Server::is_serving() const noexcept { return server_->is_serving(); }
std::vector<net::Address> Server::addresses() const { return server_->addresses(); }
std::uint16_t Server::port() const { return server_->port(); }
EventLoop& Server::get_loop() const noexcept { return server_->loop(); }

Task<void> Server::wait_closed() { return wait_until_closed(*this); }

Task<void> Server::wait_until_closed(Server server) {
  detail::ServerState& state = *server.server_;
  if (!state.closed_and_idle()) co_await state.close_waiters().wait();
}

Task<void> Server::serve_forever() { return serve_until_closed(*this); }

// A copy of the handle lives in the frame: the server stays while it serves.
Task<void> Server::serve_until_closed(Server server) {
  detail::ServerState& state = *server.server_;
  if (state.serving_forever()) throw RuntimeError("the server is already being awaited on serve_forever()");
  if (state.is_closed()) throw RuntimeError("the server is closed");
  state.start_serving();
  state.set_serving_forever(true);
  std::exception_ptr cancellation;
  try {
    co_await state.forever_waiters().wait();
  } catch (const weft::CancelledError&) {
    cancellation = std::current_exception();
  }
  state.set_serving_forever(false);
  state.close();
  co_await server.wait_closed();
  if (cancellation) std::rethrow_exception(cancellation);
  throw CancelledError();  // closed by another task: Python cancels serve_forever's future
}

// ---- start_server --------------------------------------------------------------------

namespace {

// A server of the running loop on `sockets`, bound and listening.
Server serve_on(ClientHandler handler, std::vector<net::Socket> sockets, const ServerOptions& options) {
  auto* state = new detail::ServerState(get_running_loop(), std::move(handler), options.limit);
  Server server(state);  // closes and frees it if what follows throws
  for (net::Socket& socket : sockets) state->listen(std::move(socket));
  if (options.start_serving) server.start_serving();
  return server;
}

}  // namespace

Task<Server> start_server(ClientHandler handler, std::string host, std::uint16_t port, ServerOptions options) {
  detail::check_stream_limit(options.limit);
  const std::vector<net::AddrInfo> addresses = co_await detail::resolve(std::move(host), port, AI_PASSIVE);
  std::vector<net::Socket> sockets;
  std::vector<net::Address> bound;
  for (const net::AddrInfo& info : addresses) {
    if (std::find(bound.begin(), bound.end(), info.address) != bound.end()) continue;
    bound.push_back(info.address);
    try {
      sockets.push_back(net::create_server(info.address, options.backlog, options.reuse_port));
    } catch (const net::OSError& error) {
      // As Python: a family this machine lacks (no IPv6) is skipped.
      if (error.code() != std::errc::address_family_not_supported) throw;
    }
  }
  co_return serve_on(std::move(handler), std::move(sockets), options);
}

Task<Server> start_server(ClientHandler handler, net::Socket sock, ServerOptions options) {
  detail::check_stream_limit(options.limit);
  if (sock.type() != SOCK_STREAM) throw ValueError("a stream socket was expected");
  sock.listen(options.backlog);
  std::vector<net::Socket> sockets;
  sockets.push_back(std::move(sock));
  co_return serve_on(std::move(handler), std::move(sockets), options);
}

}  // namespace weft::aio
