// tools/weft/serve/green_server.cpp — the greenlet model: gevent's shape in
// weft. One thread; a greenlet accepts and spawns a greenlet per
// connection, each running the blocking-style read-reply loop on a
// cooperative socket that parks it on the hub instead of blocking the thread.
#include "weft/gevent.hpp"
#include "weft/serve/accept_backoff.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/read_reply_loop.hpp"

namespace weft::tool {
namespace {

void serve_connection(green::socket connection, Protocol protocol) { read_reply_loop(connection, protocol); }

}  // namespace

void serve_green(const ServeOptions& options, net::Socket& listener, const StopSignal& stop,
                 const std::function<void()>& on_ready) {
  green::Hub::current();  // its loop's descriptors belong to the server's baseline
  on_ready();
  green::socket server(std::move(listener));
  auto acceptor = green::spawn([&server, protocol = options.protocol] {
    for (;;) {
      try {
        auto [connection, address] = server.accept();
        green::spawn(serve_connection, std::move(connection), protocol);
      } catch (const net::OSError& error) {
        // ECONNABORTED: that client only.
        if (accept_must_back_off(error.code().value())) green::sleep(kAcceptBackoff);
      }
    }
  });
  green::wait_readable(stop.fd());  // the main greenlet runs the hub meanwhile
  acceptor.kill();
}

}  // namespace weft::tool
