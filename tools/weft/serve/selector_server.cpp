// tools/weft/serve/selector_server.cpp — the select and poll models, in the
// shape of the seeds' selectors server: register the listener with a
// callback as its key's data, and in a loop call each ready key's callback
// with its ready events. A reply the socket cannot take at once waits for
// EVENT_WRITE; while too much of it waits (ReadGate, responder.hpp), the
// connection is not read from.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <array>
#include <memory>
#include <string>
#include <unordered_map>

#include "weft/net.hpp"
#include "weft/selectors.hpp"
#include "weft/serve/models.hpp"
#include "weft/serve/responder.hpp"

namespace weft::tool {
namespace {

using selectors::EVENT_READ;
using selectors::EVENT_WRITE;

// What a key's data points to: the callback for its fd.
struct Handler {
  virtual ~Handler() = default;
  virtual void on_ready(int events) = 0;
};

template <class Selector>
class SelectorServer {
 public:
  SelectorServer(const ServeOptions& options, net::Socket& listener, const StopSignal& stop)
      : options_(options), listener_(listener), accept_(*this), stop_(*this) {
    listener_.setblocking(false);
    selector_.register_(listener_.fileno(), EVENT_READ, &accept_);
    selector_.register_(stop.fd(), EVENT_READ, &stop_);
  }

  void serve_forever() {
    typename Selector::ReadyList ready;
    while (!stopping_) {
      selector_.select_into(ready);
      for (auto& [key, events] : ready) {
        if (stopping_) break;
        key.data->on_ready(events);  // callback = key.data; callback(key.fileobj, mask)
      }
    }
  }

 private:
  struct Accept final : Handler {
    explicit Accept(SelectorServer& s) : server(s) {}
    void on_ready(int) override { server.accept(); }
    SelectorServer& server;
  };
  struct Stop final : Handler {
    explicit Stop(SelectorServer& s) : server(s) {}
    void on_ready(int) override { server.stopping_ = true; }
    SelectorServer& server;
  };
  struct Connection final : Handler {
    Connection(SelectorServer& s, net::Socket socket)
        : server(s), sock(std::move(socket)), responder(s.options_.protocol) {}
    void on_ready(int events) override {
      if ((events & EVENT_WRITE) != 0) {
        if (!flush()) return server.drop(*this);
        if (unsent.empty() && peer_done) return server.drop(*this);  // owed nothing more
        watch();
      }
      if ((events & EVENT_READ) != 0 && (watched & EVENT_READ) != 0) read();
    }
    void read() {
      std::size_t n = 0;
      try {
        n = sock.recv_into(std::span(server.buffer_));
      } catch (const net::BlockingIOError&) {
        return;
      } catch (const net::OSError&) {
        return server.drop(*this);
      }
      if (n == 0) {
        // The peer sent all it will (perhaps only half-closed): what it is
        // still owed goes out before the connection ends.
        if (unsent.empty()) return server.drop(*this);
        peer_done = true;
        return watch();
      }
      responder.respond({server.buffer_.data(), n}, unsent);
      if (!flush()) return server.drop(*this);
      watch();
    }
    // Watches for room while replies wait (not longer: writable stays true,
    // and watching it would spin select/poll), and for bytes unless the
    // peer is done or too many replies wait. Never watches for nothing: a
    // peer that is done and owed nothing is dropped first.
    void watch() {
      const int wanted =
          (!peer_done && reading.open(unsent.size()) ? EVENT_READ : 0) | (unsent.empty() ? 0 : EVENT_WRITE);
      if (wanted != watched) server.selector_.modify(sock.fileno(), watched = wanted, this);
    }
    // Sends what the socket takes; false if the connection failed.
    bool flush() {
      try {
        while (!unsent.empty()) unsent.erase(0, sock.send(unsent, MSG_NOSIGNAL));
      } catch (const net::BlockingIOError&) {
      } catch (const net::OSError&) {
        return false;
      }
      return true;
    }
    SelectorServer& server;
    net::Socket sock;
    Responder responder;
    std::string unsent;
    ReadGate reading;
    int watched = EVENT_READ;  // the events registered
    bool peer_done = false;
  };

  void accept() {
    try {
      auto [socket, address] = listener_.accept();
      socket.setblocking(false);
      socket.setsockopt(IPPROTO_TCP, TCP_NODELAY, 1);
      auto connection = std::make_unique<Connection>(*this, std::move(socket));
      selector_.register_(connection->sock.fileno(), EVENT_READ, connection.get());
      const int fd = connection->sock.fileno();
      connections_.emplace(fd, std::move(connection));
    } catch (const net::BlockingIOError&) {
    } catch (const net::OSError&) {
    } catch (const ValueError&) {
      // select(2) cannot watch an fd >= FD_SETSIZE: that client is turned away.
    }
  }

  void drop(Connection& connection) {
    const int fd = connection.sock.fileno();
    selector_.unregister(fd);
    connections_.erase(fd);  // closes the socket
  }

  const ServeOptions& options_;
  net::Socket& listener_;
  Selector selector_;
  Accept accept_;
  Stop stop_;
  bool stopping_ = false;
  std::array<char, 16 * 1024> buffer_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
};

}  // namespace

void serve_select(const ServeOptions& options, net::Socket& listener, const StopSignal& stop) {
  SelectorServer<selectors::SelectSelector<Handler*>>(options, listener, stop).serve_forever();
}

void serve_poll(const ServeOptions& options, net::Socket& listener, const StopSignal& stop) {
  SelectorServer<selectors::PollSelector<Handler*>>(options, listener, stop).serve_forever();
}

}  // namespace weft::tool
