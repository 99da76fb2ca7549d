// tools/weft/serve/read_reply_loop.hpp — what every blocking-style model
// runs per connection: read, reply through a Responder, until the peer
// closes or fails. Socket is net::Socket (threads, processes) or
// green::socket (greenlets), which share the calls used here. A failed
// connection ends quietly; what unwinds a greenlet (GreenletExit when the
// server stops) passes through.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <array>
#include <span>
#include <string>

#include "weft/net/errors.hpp"
#include "weft/serve/responder.hpp"

namespace weft::tool {

template <class Socket>
void read_reply_loop(Socket& connection, Protocol protocol) {
  Responder responder(protocol);
  std::array<char, 16 * 1024> buffer;
  std::string reply;
  try {
    connection.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
    for (;;) {
      const std::size_t n = connection.recv_into(std::span(buffer));
      if (n == 0) return;
      reply.clear();
      responder.respond({buffer.data(), n}, reply);
      connection.sendall(reply);
    }
  } catch (const net::OSError&) {
    // A reset or broken connection ends just this connection.
  }
}

}  // namespace weft::tool
