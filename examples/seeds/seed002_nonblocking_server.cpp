// Seed 002, "2.非阻塞IO(non-blocking IO)模型", 代码实现: server.py calls
// sk.setblocking(False) and then polls in a while True loop: try accept()
// (print('建立连接了'), keep the conn); on BlockingIOError, try recv(1024)
// on every conn — b'' puts it on the delete list, a message is printed and
// answered with b'Byebye', BlockingIOError is ignored — then removes and
// closes the deleted ones. client.py starts 20 threads that each connect,
// send b'hello', time.sleep(1), print(sk.recv(1024)) and close.
//
// The twin is that loop with weft::net::Socket in non-blocking mode, catching
// net::BlockingIOError where the seed catches BlockingIOError. One change:
// it also puts each accepted conn in non-blocking mode. An accepted socket
// does not inherit the listening socket's mode on Linux (in Python as in
// weft, it starts blocking), so there the seed's conn.recv() would block
// instead of polling. The seed's author ran Windows, where the accepted
// socket keeps the non-blocking mode; Python's documentation calls this
// operating-system-dependent and advises setting the mode explicitly.
//
// The server runs in a weft::Thread on 127.0.0.1 with a port the kernel
// picks (never the seed's 8080), the 20 client threads beside it. Instead
// of `while True`, the loop ends once all 20 clients have come and gone.
//
// Checks: all 20 clients got b'Byebye'; and the document's point against
// this model, "不断得发起系统调用轮询内核": the loop made far more fruitless
// accept()/recv() calls (BlockingIOError) than there were events to handle,
// and it never let its thread sleep: the thread was on a core or queued for
// one (/proc/thread-self/schedstat) for most of its wall time, where a
// server waiting in the kernel sleeps nearly all of it (compare
// seed002_select_server). That share does not depend on what else the
// machine runs (a busy machine moves time from on-core to queued): it is
// about 100%, the check asks for over half. The CPU time itself (getrusage
// RUSAGE_THREAD), about a whole core on an idle machine, is printed.
//
// Time: the seed's time.sleep(1) is kept, a real second; the 20 clients
// sleep at the same time, so the program runs for about a second.

#include <algorithm>
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

using namespace std::chrono_literals;
namespace net = weft::net;

constexpr int kClients = 20;


// What the server thread measured; read by main after joining it.
struct LoopStats {
  double wall_seconds = 0;
  double cpu_seconds = 0;
  double runnable_seconds = 0;  // negative: the kernel keeps no schedstat
  long long kernel_calls = 0;
  long long would_block = 0;  // calls that raised BlockingIOError
  int accepted = 0;
};
LoopStats stats;

void server(net::Socket sk) {
  sk.setblocking(false);
  std::vector<net::Socket> conn_list;
  std::vector<int> del_conn_list;

  const auto wall_start = std::chrono::steady_clock::now();
  const double cpu_start = seed::thread_cpu_seconds();
  const double runnable_start = seed::thread_runnable_seconds();
  const auto give_up = wall_start + 30s;
  while (!(stats.accepted == kClients && conn_list.empty()) &&
         std::chrono::steady_clock::now() < give_up) {
    try {
      ++stats.kernel_calls;
      auto [conn, ipaddr] = sk.accept();
      std::printf("建立连接了\n");
      conn.setblocking(false);  // not inherited on Linux: see the top of the file
      conn_list.push_back(std::move(conn));
      ++stats.accepted;
    } catch (const net::BlockingIOError&) {
      ++stats.would_block;
      for (net::Socket& con : conn_list) {
        try {
          ++stats.kernel_calls;
          const std::string msg = con.recv(1024);
          if (msg.empty()) {
            del_conn_list.push_back(con.fileno());
            continue;
          }
          std::printf("%s\n", seed::py_bytes(msg).c_str());
          con.send("Byebye");
        } catch (const net::BlockingIOError&) {
          ++stats.would_block;
        }
      }
      for (const int con : del_conn_list) {
        const auto it = std::find_if(conn_list.begin(), conn_list.end(),
                                     [con](const net::Socket& s) { return s.fileno() == con; });
        it->close();
        conn_list.erase(it);
      }
      del_conn_list.clear();
    }
  }
  stats.cpu_seconds = seed::thread_cpu_seconds() - cpu_start;
  stats.runnable_seconds =
      runnable_start < 0 ? -1 : seed::thread_runnable_seconds() - runnable_start;
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
}

int main() {
  net::Socket sk;
  sk.bind(net::Address::ipv4("127.0.0.1", 0));
  sk.listen();
  const net::Address address = sk.getsockname();
  weft::Thread server_thread(server, std::move(sk));
  server_thread.start();
  const int byebyes = seed::run_hello_clients(address, kClients, "Byebye");  // the 20 clients, joined
  server_thread.join();

  const double share = stats.wall_seconds > 0 ? stats.cpu_seconds / stats.wall_seconds : 0;
  std::printf("the polling loop: %lld accept()/recv() calls for 60 events (20 connections, 20 "
              "messages, 20 goodbyes), %lld of them BlockingIOError\n",
              stats.kernel_calls, stats.would_block);
  std::printf("the polling loop: %.2f s of wall time, %.2f s of CPU time (%.0f%% of a core)\n",
              stats.wall_seconds, stats.cpu_seconds, 100 * share);
  const double busy = stats.wall_seconds > 0 ? stats.runnable_seconds / stats.wall_seconds : 0;
  if (stats.runnable_seconds >= 0)
    std::printf("the polling loop: on a core or queued for one %.0f%% of the run, asleep in the "
                "kernel the rest\n",
                100 * busy);
  seed::check(stats.accepted == kClients && byebyes == kClients,
              "all 20 clients were accepted and got b'Byebye'");
  seed::check(stats.would_block > 10 * 60,
              "the loop kept asking the kernel: over 10 fruitless calls per event");
  // Without schedstat, fall back on the CPU share, which a busy machine can lower.
  seed::check(stats.runnable_seconds >= 0 ? busy > 0.5 : share > 0.1,
              "polling kept the CPU busy: the loop never slept in the kernel, it always wanted a core");
  return seed::verdict();
}
