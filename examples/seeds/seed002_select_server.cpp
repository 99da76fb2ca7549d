// Seed 002, "3.IO多路复用/事件驱动IO(event driven IO)模型", 代码实现:
// server.py keeps read_list = [sk] and loops on
// select.select(read_list, [], []): the listening socket ready means
// accept() and read_list.append(conn); a conn ready means recv(1024) —
// b'' prints '断开', removes and closes it, anything else is printed and
// answered with b'byebye!!'. client.py starts 10 threads that each connect,
// send b'hello', time.sleep(1), print(sk.recv(1024)) and close.
//
// Python's select.select(read_list, [], []) is exactly the primitive that
// selectors.SelectSelector wraps: one select(2) over the descriptors of a
// read list. So read_list becomes a weft::selectors::SelectSelector —
// read_list.append(conn) is register_(conn, EVENT_READ),
// read_list.remove(i) is unregister(i) — and each select() hands back the
// ready ones, Python's r_list. A C++ selector keeps descriptors, not
// objects, so the connections themselves live in a table by descriptor.
//
// The server runs in a weft::Thread on 127.0.0.1 with a port the kernel
// picks (never the seed's 8080), the 10 client threads beside it. To stop
// it, one more descriptor is in the read list: one end of a socketpair.
// When the clients are done the main thread writes a byte to the other end;
// the loop then finishes the connections still open and ends.
//
// Checks: all 10 clients got b'byebye!!'; the server printed '断开' for each
// of the 10; and the document's point — IO multiplexing "解决了非阻塞IO模型
// 不断轮询操作系统的问题" — the loop waited in the kernel, not on the CPU: its
// thread's CPU time is a small share of its wall time (compare the
// non-blocking twin's busy core).
//
// Time: the seed's time.sleep(1) is kept, a real second; the 10 clients
// sleep at the same time, so the program runs for about a second.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <weft/net.hpp>
#include <weft/selectors.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

using namespace std::chrono_literals;
namespace net = weft::net;
namespace selectors = weft::selectors;

constexpr int kClients = 10;


// What the server thread measured; read by main after joining it.
int disconnects = 0;
double loop_wall_seconds = 0;
double loop_cpu_seconds = 0;

void server(net::Socket sk, net::Socket stop) {
  sk.setblocking(false);

  selectors::SelectSelector<> read_list;
  read_list.register_(sk, selectors::EVENT_READ);
  read_list.register_(stop, selectors::EVENT_READ);
  std::map<int, net::Socket> conns;
  bool stopping = false;

  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = seed::thread_cpu_seconds();
  while (!(stopping && conns.empty())) {
    for (const auto& [key, events] : read_list.select()) {
      const int i = key.fileobj;
      if (i == sk.fileno()) {
        auto [conn, addr] = sk.accept();
        read_list.register_(conn, selectors::EVENT_READ);
        conns.emplace(conn.fileno(), std::move(conn));
      } else if (i == stop.fileno()) {
        stop.recv(1);
        stopping = true;
      } else {
        net::Socket& conn = conns.at(i);
        const std::string msg = conn.recv(1024);
        if (msg.empty()) {
          std::printf("断开\n");
          ++disconnects;
          read_list.unregister(conn);
          conn.close();
          conns.erase(i);
          continue;
        }
        std::printf("%s\n", seed::py_bytes(msg).c_str());
        conn.send("byebye!!");
      }
    }
  }
  loop_cpu_seconds = seed::thread_cpu_seconds() - cpu_start;
  loop_wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
}

int main() {
  net::Socket sk;
  sk.bind(net::Address::ipv4("127.0.0.1", 0));
  sk.listen();
  const net::Address address = sk.getsockname();
  auto [stop_server_end, stop_main_end] = net::socketpair();
  weft::Thread server_thread(server, std::move(sk), std::move(stop_server_end));
  server_thread.start();
  const int replies = seed::run_hello_clients(address, kClients, "byebye!!");  // the 10 clients, joined
  stop_main_end.send("x");
  server_thread.join();

  const double share = loop_wall_seconds > 0 ? loop_cpu_seconds / loop_wall_seconds : 1;
  std::printf("the select loop: %.2f s of wall time, %.3f s of CPU time (%.1f%% of a core)\n",
              loop_wall_seconds, loop_cpu_seconds, 100 * share);
  seed::check(replies == kClients, "all 10 clients got b'byebye!!'");
  seed::check(disconnects == kClients, "the server saw all 10 clients leave ('断开')");
  seed::check(share < 0.2, "select() waited in the kernel: the loop used little CPU, no polling");
  return seed::verdict();
}
