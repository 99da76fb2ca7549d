// Seed 004, 进程池版的socket并发聊天代码示例: a chat server whose connections are
// served by Pool(4) ("发现:并发开启多个客户端,服务端同一时间只有4个不同的pid,只能结束
// 一个客户端,另外一个客户端才会进来" — "同时最多和4个人进行聊天,因为进程池中只有4个
// 进程可供调用"). The document keeps the prose but not the listing; the
// course's server binds 127.0.0.1:8080 with SO_REUSEADDR, listen(5), and
// loops `conn, _ = server.accept(); p.apply_async(talk, args=(conn,))`,
// talk() printing '进程pid: %s' and answering each message upper-cased until
// the client leaves; its client sends what is typed at input('>>: ').
//
// As in Python, the accepted socket is the pool task's argument: encoding
// it lends its descriptor (weft/mp/reduction.hpp; Python's resource_sharer
// does the same when it pickles a socket), and the worker that runs talk()
// takes it. As there, a worker serves one client at a time and the others
// wait for a free worker. Each reply also names the process that made it:
// the message upper-cased plus " from pid N".
//
// The five clients are threads of the main program, on 127.0.0.1 with a
// port the kernel picks. Each connects and sends a greeting; instead of
// input() each then waits until the main program lets it say goodbye and
// leave. The main program accepts the five connections, handing each to
// the pool as it comes, then waits until four clients have their answer,
// checks that the fifth gets none while those four stay (it waits 300 ms
// for an answer that must not come), then lets the four leave, and checks
// that the fifth is answered only after one of them has left, by one of the
// same four processes.
//
// Checks: every reply was the message upper-cased; the four clients
// talking at once were served by 4 distinct pool processes, none of them
// the main program; the fifth was served only after another client left,
// by one of those 4 processes; all five talk() tasks ended successfully.
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/mp/pool.hpp>
#include <weft/net.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

using namespace std::chrono_literals;
namespace mp = weft::mp;
namespace net = weft::net;

constexpr int kWorkers = 4;
constexpr int kClients = 5;

// ---- the server: the pool's workers ----

// Answers one connection until the client leaves; returns how many
// messages it answered.
int talk(net::Socket conn) {
  std::printf("进程pid: %d (%s)\n", static_cast<int>(::getpid()),
              seed::py_address(conn.getpeername()).c_str());
  int answered = 0;
  while (true) {
    try {
      const std::string msg = conn.recv(1024);
      if (msg.empty()) break;
      conn.send(seed::py_upper(msg) + " from pid " + std::to_string(::getpid()));
      ++answered;
    } catch (const net::OSError&) {  // Python's `except Exception`: what recv and send raise
      break;
    }
  }
  return answered;
}

// ---- the clients, threads of the main program ----

struct Client {
  pid_t served_by = -1;  // the pid named in the first reply
  int replies_right = 0;
  int left_before_served = 0;  // how many clients had started to leave when it was answered
  weft::Event may_leave;
};

std::array<Client, kClients> clients;
weft::Lock served_lock;
weft::Condition served_changed(served_lock);
std::vector<int> served_order;  // client numbers, in the order they were answered
int leaving = 0;                // clients that have started to leave

// The pid named at the end of a reply, or -1 if the reply is not
// upper(msg) + " from pid N".
pid_t answered_by(const std::string& msg, const std::string& reply) {
  const std::string prefix = seed::py_upper(msg) + " from pid ";
  if (reply.compare(0, prefix.size(), prefix) != 0) return -1;
  return static_cast<pid_t>(std::atoi(reply.c_str() + prefix.size()));
}

// Sends msg, prints the reply and returns the pid that answered, or -1.
pid_t say(net::Socket& c, const std::string& msg) {
  c.send(msg);
  const std::string reply = c.recv(1024);
  std::printf(">>: %s\n%s\n", msg.c_str(), reply.c_str());
  return answered_by(msg, reply);
}

void client(int n, const net::Address& address) {
  Client& me = clients[static_cast<std::size_t>(n)];
  net::Socket c(AF_INET, SOCK_STREAM);
  c.connect(address);
  me.served_by = say(c, "hello from client " + std::to_string(n));
  if (me.served_by > 0) ++me.replies_right;
  {
    std::lock_guard held(served_changed);
    served_order.push_back(n);
    me.left_before_served = leaving;
    served_changed.notify_all();
  }
  me.may_leave.wait(30s);
  {
    std::lock_guard held(served_changed);
    ++leaving;
  }
  if (say(c, "bye from client " + std::to_string(n)) == me.served_by) ++me.replies_right;
  c.close();
}

std::size_t served_count(std::chrono::milliseconds timeout, std::size_t wanted) {
  std::lock_guard held(served_changed);
  served_changed.wait_for([&] { return served_order.size() >= wanted; }, timeout);
  return served_order.size();
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before the workers fork

  net::Socket server(AF_INET, SOCK_STREAM);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.bind(net::Address::ipv4("127.0.0.1", 0));
  server.listen(5);
  server.settimeout(30s);  // a client that never connects fails the twin instead of hanging it
  const net::Address address = server.getsockname();

  mp::Pool p(kWorkers);
  std::vector<std::unique_ptr<weft::Thread>> threads;
  for (int n = 0; n < kClients; ++n) {
    threads.push_back(std::make_unique<weft::Thread>(client, n, address));
    threads.back()->start();
  }

  std::vector<mp::AsyncResult<int>> talks;
  for (int i = 0; i < kClients; ++i) {  // the seed's accept loop, for the five clients
    auto [conn, client_addr] = server.accept();
    talks.push_back(p.apply_async(talk, std::tuple{std::move(conn)}));
  }

  const std::size_t at_once = served_count(10s, kWorkers);
  std::set<pid_t> first_pids;
  {
    std::lock_guard held(served_changed);
    for (const int n : served_order) first_pids.insert(clients[static_cast<std::size_t>(n)].served_by);
  }
  const bool fifth_waited = served_count(300ms, kWorkers + 1) == kWorkers;
  std::printf("%zu clients talking at once, to the pids:", at_once);
  for (const pid_t pid : first_pids) std::printf(" %d", static_cast<int>(pid));
  std::printf("\n");

  std::printf("the four leave\n");
  for (Client& c : clients) c.may_leave.set();
  int fifth = -1;
  if (served_count(30s, kClients) == kClients) {
    std::lock_guard held(served_changed);
    fifth = served_order.back();
  }
  threads.clear();  // joins the clients

  p.close();
  p.join();
  server.close();

  int all_answered = 0;
  bool talks_ok = true;
  for (const auto& t : talks) {
    talks_ok = talks_ok && t.ready() && t.successful();
    if (talks_ok) all_answered += t.get();
  }
  bool all_right = true;
  for (const Client& c : clients) all_right = all_right && c.replies_right == 2;

  seed::check(all_right, "every client got both its answers, upper-cased, from one process");
  seed::check(at_once == kWorkers && first_pids.size() == kWorkers && !first_pids.contains(::getpid()) &&
                  !first_pids.contains(-1),
              "4 clients talked at once, to 4 distinct pool processes, none of them the main program");
  seed::check(fifth_waited, "the 5th client got no answer while the 4 processes were busy");
  seed::check(fifth >= 0 && clients[static_cast<std::size_t>(fifth)].left_before_served >= 1 &&
                  first_pids.contains(clients[static_cast<std::size_t>(fifth)].served_by),
              "the 5th client was served only after another left, by one of the same 4 processes");
  seed::check(talks_ok && all_answered == 2 * kClients, "all five talk() tasks ended successfully");
  return seed::verdict();
}
