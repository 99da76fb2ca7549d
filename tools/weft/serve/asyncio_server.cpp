// tools/weft/serve/asyncio_server.cpp — the asyncio model: Python's
// asyncio streams server in weft, the shape of the Python peer
// (bench/python/servers/echo_asyncio.py). One thread, one event loop;
// start_server runs a coroutine per connection that reads, replies and
// drains until the peer closes.
#include "weft/aio/streams.hpp"
#include "weft/asyncio.hpp"
#include "weft/net/errors.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/responder.hpp"

namespace weft::tool {
namespace {

constexpr std::size_t kReadSize = 16 * 1024;

aio::Task<void> serve_connection(Protocol protocol, aio::StreamReader reader, aio::StreamWriter writer) {
  Responder responder(protocol);
  std::string reply;
  try {
    for (;;) {
      std::string data = co_await reader.read(kReadSize);
      if (data.empty()) break;
      if (protocol == Protocol::echo) {
        writer.write(data);
      } else {
        reply.clear();
        responder.respond(data, reply);
        writer.write(reply);
      }
      co_await writer.drain();
    }
  } catch (const net::OSError&) {
    // A reset or broken connection ends just this connection.
  }
  writer.close();
}

aio::Task<void> serve(const ServeOptions& options, net::Socket& listener, const StopSignal& stop,
                      const std::function<void(io::Backend)>& on_ready) {
  const Protocol protocol = options.protocol;
  aio::Server server = co_await aio::start_server(
      [protocol](aio::StreamReader reader, aio::StreamWriter writer) {
        return serve_connection(protocol, std::move(reader), std::move(writer));
      },
      std::move(listener), {.backlog = 4096});
  io::Loop& io = aio::get_running_loop().io();
  on_ready(io.backend());
  // The stop ends the server and every connection; its handlers then end.
  io.add_reader(stop.fd(), [&server] {
    server.close();
    server.abort_clients();
  });
  co_await server.wait_closed();
  io.remove_reader(stop.fd());
}

}  // namespace

void serve_asyncio(const ServeOptions& options, io::LoopOptions loop, net::Socket& listener, const StopSignal& stop,
                   const std::function<void(io::Backend)>& on_ready) {
  aio::run(serve(options, listener, stop, on_ready), loop);
}

}  // namespace weft::tool
