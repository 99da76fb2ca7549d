// Seed 000, "selectors" ("selectors中涵盖了select,poll,epoll"): a
// DefaultSelector server whose listening socket (listen(1000)) carries the
// callback accept; accept sets each conn non-blocking and registers it with
// the callback read, which answers ('haha+%s' % data), or, on empty data,
// prints('发什么?', conn), unregisters and closes it. The loop: for each
// (key, mask) of sel.select(), callback = key.data; callback(key.fileobj,
// mask). The document's claim: "这个可以进行多并发运行".
//
// The twin's selector is weft::selectors::DefaultSelector (epoll) whose
// data is a std::function — the same `key.data(key.fileobj, mask)` loop. A
// key's fileobj is the descriptor in C++, so the sockets behind the
// descriptors live in a table. The seed has no client; the twin's is 5
// threads that each connect, send 3 messages one at a time, and leave once
// all 5 have had their answers (so all 5 connections are open together). The server runs in a weft::Thread on
// 127.0.0.1 with a port the kernel picks (never the seed's 5000). To stop
// it, the read end of a socketpair is registered too, with a callback that
// sets a stop flag; the main thread writes a byte to the other end once the
// clients are gone, and the loop ends when no connection is left.
//
// Checks: every reply is "haha+" + the message; the one server thread had
// all 5 connections registered at once (多并发); it printed '发什么?' for
// each client that left.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <weft/net.hpp>
#include <weft/selectors.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

using namespace std::chrono_literals;
namespace net = weft::net;
namespace selectors = weft::selectors;

constexpr int kClients = 5;
constexpr int kMessages = 3;

using Callback = std::function<void(int fileobj, int mask)>;

// The server: the seed's module-level state and callbacks, in a namespace of
// their own so that read and accept are not the C library's. Only the server
// thread touches them, except the counts main reads after joining it.
namespace {

selectors::DefaultSelector<Callback> sel;
std::unordered_map<int, net::Socket> sockets;  // the object behind each descriptor
int connections = 0;
int most_connections = 0;
bool stopping = false;
int whats_sent = 0;  // how many times '发什么?' was printed

void read(int fileobj, [[maybe_unused]] int mask) {
  net::Socket& conn = sockets.at(fileobj);
  const std::string data = conn.recv(1024);
  if (!data.empty()) {
    conn.send("haha+" + data);
  } else {
    std::printf("发什么? %s\n", seed::py_socket(conn).c_str());
    ++whats_sent;
    sel.unregister(conn);
    conn.close();
    sockets.erase(fileobj);
    --connections;
  }
}

void accept(int sock, [[maybe_unused]] int mask) {
  auto [conn, addr] = sockets.at(sock).accept();
  conn.setblocking(false);
  sel.register_(conn, selectors::EVENT_READ, read);
  const int fd = conn.fileno();
  sockets.emplace(fd, std::move(conn));
  if (++connections > most_connections) most_connections = connections;
}

void stop(int fileobj, [[maybe_unused]] int mask) {
  sockets.at(fileobj).recv(1);
  stopping = true;
}

void serve(net::Socket sock, net::Socket stop_end) {
  sel.register_(sock, selectors::EVENT_READ, accept);
  sel.register_(stop_end, selectors::EVENT_READ, stop);
  sockets.emplace(sock.fileno(), std::move(sock));
  sockets.emplace(stop_end.fileno(), std::move(stop_end));

  while (!(stopping && connections == 0)) {
    const auto events = sel.select();
    for (const auto& [key, mask] : events) {
      const Callback& callback = key.data;
      callback(key.fileobj, mask);
    }
  }
  for (auto& [fd, s] : sockets) sel.unregister(fd);
  sockets.clear();
}

}  // namespace

std::atomic<int> right_replies{0};
weft::Barrier all_answered(kClients);

void client(int n, const net::Address& address) {
  net::Socket c;
  c.connect(address);
  for (int i = 0; i < kMessages; ++i) {
    const std::string msg = "客户端" + std::to_string(n) + " 消息" + std::to_string(i);
    c.send(msg);
    const std::string reply = c.recv(1024);
    std::printf("client %d got %s\n", n, reply.c_str());
    if (reply == "haha+" + msg) right_replies.fetch_add(1);
  }
  all_answered.wait(30s);
  c.close();
}

int main() {
  net::Socket sock;
  sock.bind(net::Address::ipv4("127.0.0.1", 0));
  sock.listen(1000);
  const net::Address address = sock.getsockname();
  auto [stop_server_end, stop_main_end] = net::socketpair();
  weft::Thread server_thread(serve, std::move(sock), std::move(stop_server_end));
  server_thread.start();
  {
    std::vector<std::unique_ptr<weft::Thread>> clients;
    for (int n = 0; n < kClients; ++n) {
      clients.push_back(std::make_unique<weft::Thread>(client, n, address));
      clients.back()->start();
    }
  }  // the clients are joined here
  stop_main_end.send("x");
  server_thread.join();

  std::printf("%d replies, at most %d connections registered at once\n", right_replies.load(),
              most_connections);
  seed::check(right_replies.load() == kClients * kMessages,
              "every reply was 'haha+' + the message (15 of 15)");
  seed::check(most_connections == kClients,
              "one server thread had all 5 connections registered at once (多并发)");
  seed::check(whats_sent == kClients,
              "the server printed '发什么?' for each of the 5 clients that left");
  return seed::verdict();
}
