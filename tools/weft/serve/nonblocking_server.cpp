// tools/weft/serve/nonblocking_server.cpp — seed 002's non-blocking model,
// kept for teaching: the listener and every connection are non-blocking,
// and one loop asks each of them in turn, forever, whether anything
// arrived. It serves many clients on one thread and burns its core doing
// so — the CPU column of the shootout shows the price.
//
// Where the seed catches BlockingIOError, this loop checks for EAGAIN: an
// exception per empty poll would measure C++ exception handling rather
// than the model.
//
// A client whose replies pile up unsent (it does not read) is not asked for
// more until they drain (ReadGate, responder.hpp).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "weft/net.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/responder.hpp"

namespace weft::tool {
namespace {

struct Client {
  Client(int descriptor, Protocol protocol) : fd(descriptor), responder(protocol) {}
  int fd;
  Responder responder;
  std::string unsent;
  ReadGate reading;
  bool peer_done = false;  // it sent all it will: it is owed the rest, then closed
};

// Sends what it can of client.unsent; false once the connection failed.
bool send_some(Client& client) {
  while (!client.unsent.empty()) {
    const ssize_t n = ::send(client.fd, client.unsent.data(), client.unsent.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    client.unsent.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

void serve_nonblocking(const ServeOptions& options, net::Socket& listener, const StopSignal& stop) {
  listener.setblocking(false);
  std::vector<std::unique_ptr<Client>> clients;
  std::array<char, 16 * 1024> buffer;
  while (!stop.requested()) {
    const int fd = ::accept4(listener.fileno(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      clients.push_back(std::make_unique<Client>(fd, options.protocol));
    }
    for (auto& client : clients) {
      bool alive = true;
      if (!client->peer_done && client->reading.open(client->unsent.size())) {
        const ssize_t n = ::recv(client->fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0) client->responder.respond({buffer.data(), static_cast<std::size_t>(n)}, client->unsent);
        if (n == 0) client->peer_done = true;
        if (n < 0) alive = errno == EAGAIN || errno == EWOULDBLOCK;
      }
      if (alive) alive = send_some(*client) && !(client->peer_done && client->unsent.empty());
      if (!alive) {
        ::close(client->fd);
        client.reset();
      }
    }
    std::erase(clients, nullptr);
  }
  for (auto& client : clients) ::close(client->fd);
}

}  // namespace weft::tool
