// Seed 001, 协程实现TCP服务端并发的效果 ("一个服务端同时服务多个客户端"): with
// monkey.patch_all(), servers() accepts connections on an ordinary
// socket.socket and talk(conn) answers each message with
// data + b'hello baby!', printing what it received, until
// ConnectionResetError; g1 = spawn(servers); g1.join().
// "客户端开设几百个线程发消息即可": the clients are a few hundred threads.
//
// The seed's servers() calls talk(conn) inline, which would serve one
// client at a time: the accept loop would not run again until that client
// left. The document says the point is to serve many at once, so the twin
// spawns talk per connection, as gevent does it. The seed also binds
// 127.0.0.1:8080 twice (once at module level, once in servers()), which
// would fail with EADDRINUSE; the twin binds once, to a port the kernel
// picks, and hands the socket to servers(). A client that closes makes
// recv() return b'' on Linux; the seed's loop would then answer the closed
// connection until the peer's reset surfaced as ConnectionResetError (or as
// BrokenPipeError, which it does not catch), so talk also ends on b''.
//
// Shows weft::green::monkey::patch_all() making unmodified blocking code
// cooperative: servers() and talk() use the ordinary blocking
// weft::net::Socket, and each blocking accept()/recv() parks its greenlet
// on the hub instead of blocking the thread. 200 client threads each send a
// message, wait for the reply, wait until every client has had its reply,
// then send a second one and leave: one thread — the main one — holds all
// 200 connections open at once.
//
// Stopping: once every client thread has ended, the thread that ran them
// sets a stop flag and connects once more to wake accept(); servers() then
// waits for its talk greenlets and returns, and g1.join() returns.
#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <weft/gevent.hpp>
#include <weft/net.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

namespace green = weft::green;
namespace net = weft::net;

constexpr int kClients = 200;

std::atomic<bool> stopping{false};
int open_connections = 0;  // greenlets of one thread: no atomics needed
int peak_connections = 0;
bool every_talk_on_main_thread = true;
const std::thread::id main_thread = std::this_thread::get_id();

void talk(net::Socket conn) {
  every_talk_on_main_thread = every_talk_on_main_thread && std::this_thread::get_id() == main_thread;
  peak_connections = std::max(peak_connections, ++open_connections);
  while (true) {
    try {
      const std::string data = conn.recv(1024);
      if (data.empty()) break;  // the client left
      std::printf("%s\n", seed::py_bytes(data).c_str());
      conn.send(data + "hello baby!");
    } catch (const net::ConnectionResetError& e) {
      std::printf("%s\n", e.what());
      break;
    }
  }
  conn.close();
  --open_connections;
}

void servers(net::Socket server) {
  std::vector<green::AnyGreenlet> talks;
  while (true) {
    auto [conn, addr] = server.accept();
    if (stopping.load()) break;
    talks.push_back(green::spawn(talk, std::move(conn)));
  }
  green::joinall(talks);
}

// One client thread: two messages, the second only once every client has
// had its first reply. Returns whether both replies were right.
bool client(const net::Address& address, int number, std::barrier<>& all_answered) {
  net::Socket sk = net::create_connection(address);
  bool right = true;
  for (const char* what : {"hello", "bye"}) {
    const std::string message = std::string(what) + " from client " + std::to_string(number);
    const std::string expected = message + "hello baby!";
    sk.sendall(message);
    std::string reply;
    while (reply.size() < expected.size()) {
      std::string more = sk.recv(1024);
      if (more.empty()) break;
      reply += more;
    }
    right = right && reply == expected;
    if (std::string_view(what) == "hello") all_answered.arrive_and_wait();
  }
  sk.close();
  return right;
}

int main() {
  green::monkey::patch_all();

  net::Socket server;
  server.bind(net::Address::ipv4("127.0.0.1", 0));
  server.listen(kClients);  // room for every client connecting at once
  const net::Address address = server.getsockname();

  std::atomic<int> right_replies{0};
  std::thread clients([&] {
    std::barrier<> all_answered(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i)
      threads.emplace_back([&, i] {
        if (client(address, i, all_answered)) right_replies.fetch_add(1);
      });
    for (std::thread& thread : threads) thread.join();
    stopping.store(true);
    net::create_connection(address).close();  // wakes accept()
  });

  auto g1 = green::spawn(servers, std::move(server));
  g1.join();
  clients.join();

  std::printf("%d clients; at most %d connections open at once, all served by one thread\n", kClients,
              peak_connections);
  seed::check(right_replies.load() == kClients,
              "all 200 clients got data + b'hello baby!' back for both messages");
  seed::check(peak_connections == kClients && every_talk_on_main_thread,
              "one thread served all 200 connections at once, a greenlet each");
  return seed::verdict();
}
