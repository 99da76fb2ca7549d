// Seed 002, "1.阻塞IO(blocking IO)模型": a socket blocks by default, so a
// server waiting in recv() for one client cannot accept another; the
// document's way out is "每当1个客户端连接到服务端,服务端开启1个线程,来处理
// 客户端请求,制造并发". Its client.py (given with the non-blocking server)
// starts 20 threads that each connect, send b'hello', time.sleep(1),
// print(sk.recv(1024)) and close.
//
// The seed gives no code for this server, so the twin writes the one the
// text describes: sk.accept() in a loop and one weft::Thread per connection,
// which recv()s the message, prints it, replies b'Byebye' and waits in
// recv() until its client leaves. The server runs in a weft::Thread on
// 127.0.0.1 with a port the kernel picks (never the seed's 8080), the
// seed's 20 client threads beside it. When they are done, the main thread
// sets a stop flag and wakes the server's accept() by connecting once more.
//
// Checks: all 20 clients got b'Byebye'; the server had all 20 connections
// open at once, each blocked in its own thread. The run's time is printed,
// not checked: with this client a server taking one connection at a time
// finishes in about a second too (every client sends, then all sleep
// together, and each queued one is answered as soon as the one before it
// leaves), so only the open connections tell the two servers apart.
//
// Time: the seed's time.sleep(1) is kept, a real second; the 20 clients
// sleep at the same time, so the program runs for about a second.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <weft/net.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

namespace net = weft::net;

constexpr int kClients = 20;

std::atomic<bool> stopping{false};
std::atomic<int> open_connections{0};
std::atomic<int> peak_connections{0};

// One connection's thread: blocks in recv() for the message, answers, then
// blocks in recv() again until the client closes (b'').
void talk(net::Socket conn) {
  const std::string msg = conn.recv(1024);
  std::printf("%s\n", seed::py_bytes(msg).c_str());
  conn.send("Byebye");
  while (!conn.recv(1024).empty()) {
  }
  conn.close();
  open_connections.fetch_sub(1);
}

void server(net::Socket sk) {
  std::vector<std::unique_ptr<weft::Thread>> threads;
  while (true) {
    auto [conn, addr] = sk.accept();
    if (stopping.load()) break;
    const int now_open = open_connections.fetch_add(1) + 1;
    int peak = peak_connections.load();
    while (now_open > peak && !peak_connections.compare_exchange_weak(peak, now_open)) {
    }
    threads.push_back(std::make_unique<weft::Thread>(talk, std::move(conn)));
    threads.back()->start();
  }
}  // the connection threads are joined here; their clients have all left

int main() {
  net::Socket sk;
  sk.bind(net::Address::ipv4("127.0.0.1", 0));
  sk.listen();
  const net::Address address = sk.getsockname();
  weft::Thread server_thread(server, std::move(sk));
  server_thread.start();

  const auto start = std::chrono::steady_clock::now();
  const int byebyes = seed::run_hello_clients(address, kClients, "Byebye");  // the 20 clients, joined
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;

  stopping.store(true);
  net::create_connection(address).close();
  server_thread.join();

  std::printf("%d clients served in %.2f s; at most %d connections open at once\n", kClients,
              took.count(), peak_connections.load());
  seed::check(byebyes == kClients, "all 20 clients got b'Byebye'");
  seed::check(peak_connections.load() == kClients,
              "the server had all 20 connections open at once, one thread each");
  return seed::verdict();
}
