// Seed 003, 通过gevent实现单线程下的多socket并发 (many sockets at once on one
// thread): the server, on gevent's socket with monkey.patch_all(),
// accept()s in a loop and gevent.spawn(handle_request, cli)s each
// connection; handle_request echoes what it receives (print("recv:", data);
// s.send(data)), shuts down its writing side once data is b'', prints any
// exception and closes. The client connects to port 8001 and, in a loop,
// sendall()s a line typed at input(">>:") and prints
// 'Received', repr(data).
//
// The twin runs both in one program: the server in greenlets on the main
// thread, on 127.0.0.1 with a port the kernel picks (not 0.0.0.0:8001);
// the clients are 5 threads with ordinary sockets, each sending a fixed
// list of 3 lines instead of input() and then closing (the seed's client
// never does). Each client waits, after its first reply, until all 5 have
// had one, so the server holds all 5 connections at once. Once the clients
// are done, the thread that ran them sets a stop flag and connects once
// more to wake accept().
//
// handle_request is the seed's, unchanged, so when a client leaves it does
// what Python's does: recv() returns b'', it echoes b'' and shuts down its
// writing side; recv() returns b'' again, and echoing on the shut side
// raises BrokenPipeError, which it prints before closing. Its print(ex)
// prints an OSError as Python does, "[Errno 32] Broken pipe", without the
// name of the failing call that weft's what() adds.
//
// Shows weft::green::socket and spawn: one thread serves every client at
// once, a greenlet per connection, each parked in its own recv().
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <weft/gevent.hpp>
#include <weft/net.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

namespace green = weft::green;
namespace net = weft::net;

constexpr int kClients = 5;
const std::vector<std::string> kLines = {"hello", "how are you", "bye"};

std::atomic<bool> stopping{false};
int handlers_running = 0;  // greenlets of one thread: no atomics needed
int peak_handlers = 0;
int handlers_ended = 0;

void handle_request(green::socket s) {
  peak_handlers = std::max(peak_handlers, ++handlers_running);
  try {
    while (true) {
      const std::string data = s.recv(1024);
      std::printf("recv: %s\n", seed::py_bytes(data).c_str());
      s.send(data);
      if (data.empty()) s.shutdown(SHUT_WR);
    }
  } catch (const net::OSError& ex) {  // printed as Python prints an OSError
    std::printf("[Errno %d] %s\n", ex.code().value(), ex.code().message().c_str());
  } catch (const std::exception& ex) {
    std::printf("%s\n", ex.what());
  }
  s.close();
  --handlers_running;
  ++handlers_ended;
}

void server(green::socket s) {
  std::vector<green::AnyGreenlet> handlers;
  while (true) {
    auto [cli, addr] = s.accept();
    if (stopping.load()) break;
    handlers.push_back(green::spawn(handle_request, std::move(cli)));
  }
  green::joinall(handlers);
}

// One client: the seed's loop over kLines; returns how many replies were
// the line sent.
int client(const net::Address& address, std::barrier<>& all_answered) {
  net::Socket s = net::create_connection(address);
  int echoed = 0;
  for (const std::string& msg : kLines) {
    s.sendall(msg);
    std::string data;
    while (data.size() < msg.size()) {
      std::string more = s.recv(1024);
      if (more.empty()) break;
      data += more;
    }
    std::printf("Received %s\n", seed::py_bytes(data).c_str());
    if (data == msg) ++echoed;
    if (&msg == &kLines.front()) all_answered.arrive_and_wait();
  }
  s.close();
  return echoed;
}

int main() {
  green::monkey::patch_all();

  green::socket s;
  s.bind(net::Address::ipv4("127.0.0.1", 0));
  s.listen(500);
  const net::Address address = s.getsockname();

  std::atomic<int> echoed{0};
  std::thread clients([&] {
    std::barrier<> all_answered(kClients);
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i)
      threads.emplace_back([&] { echoed.fetch_add(client(address, all_answered)); });
    for (std::thread& thread : threads) thread.join();
    stopping.store(true);
    net::create_connection(address).close();  // wakes accept()
  });

  server(std::move(s));
  clients.join();

  seed::check(echoed.load() == kClients * static_cast<int>(kLines.size()),
              "every line each client sent came back unchanged");
  seed::check(peak_handlers == kClients,
              "one thread served the 5 clients at once, a greenlet each");
  seed::check(handlers_ended == kClients, "every handler ended after its client left");
  return seed::verdict();
}
