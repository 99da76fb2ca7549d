// tools/weft/serve/models.hpp — the servers behind `weft serve --model`,
// one function per model (the epoll and io_uring ones are in
// loop_server.hpp). Each serves on a listening socket until the stop fd
// (StopSignal) becomes readable. None grows without limit for a peer that
// sends and does not read: the models that send a reply before they read
// again wait for room, the others stop reading from that peer while too
// much of its replies waits (responder.hpp).
#pragma once

#include <functional>

#include "weft/io/loop.hpp"
#include "weft/net/socket.hpp"
#include "weft/serve/serve_options.hpp"
#include "weft/serve/stop_signal.hpp"

namespace weft::tool {

// Blocking sockets, a weft::Thread (daemon) per connection.
void serve_threads(const ServeOptions& options, net::Socket& listener, const StopSignal& stop);
// Blocking sockets, a forked process per connection; children die with the
// server (PR_SET_PDEATHSIG) and are reaped by a SIGCHLD handler, so their
// CPU time stays in the server's cutime/cstime once they are gone. SIGTERM
// or SIGINT sent to a child ends that child and its connection only.
void serve_processes(const ServeOptions& options, net::Socket& listener, const StopSignal& stop);
// options.workers processes forked up front, each an epoll loop accepting on
// the shared listener; on_ready runs once every worker is set up. The parent
// waits for the stop and reaps them. Throws std::runtime_error (after
// stopping the others) if a worker dies before it is set up — on_ready is
// not called then — or while serving (a SIGTERM sent to a worker by anyone
// but the server included): the server never runs with fewer workers than
// it announced.
void serve_prefork(const ServeOptions& options, net::Socket& listener, const StopSignal& stop,
                   const std::function<void()>& on_ready);
// Seed 002's non-blocking model: accept and recv are tried in turn on every
// socket, forever, whether or not anything is ready.
void serve_nonblocking(const ServeOptions& options, net::Socket& listener, const StopSignal& stop);
// IO multiplexing through weft::selectors, the shape of the seeds' selectors
// server: key.data is the callback to run when the key's fd is ready.
void serve_select(const ServeOptions& options, net::Socket& listener, const StopSignal& stop);
void serve_poll(const ServeOptions& options, net::Socket& listener, const StopSignal& stop);
// gevent's model: one thread, a greenlet per connection on cooperative
// sockets, parked on the hub (the event-loop core) while they wait. on_ready
// runs once the hub is set up.
void serve_green(const ServeOptions& options, net::Socket& listener, const StopSignal& stop,
                 const std::function<void()>& on_ready);
// asyncio's model: one thread running an aio event loop with `loop`'s
// options; start_server on the listener runs a coroutine per connection
// that reads, replies and drains. on_ready(backend) runs once it serves,
// with the backend the loop actually runs.
void serve_asyncio(const ServeOptions& options, io::LoopOptions loop, net::Socket& listener, const StopSignal& stop,
                   const std::function<void(io::Backend)>& on_ready);

}  // namespace weft::tool
