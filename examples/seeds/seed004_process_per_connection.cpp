// Seed 004, the exercise "我们之前学socket的时候,知道tcp协议的socket是不能同时
// 和多个客户端进行连接的……那我们自己通过多进程来实现一下同时和多个客户端进行连接
// 通信", with "服务端代码示例" and "客户端代码示例". The document keeps the
// prose but not the listings, so the twin follows the exercise as that
// course writes it: the server (SO_REUSEADDR, listen(5)) loops on accept()
// and starts multiprocessing.Process(target=talk, args=(conn, client_addr))
// for every connection; talk() answers each message upper-cased until the
// client leaves. The client sends what is typed at input('>>: ') and
// prints the replies.
//
// Each connection gets a weft::mp::Process whose target is a lambda over
// the accepted socket (the fork start method runs it on the child's copy,
// as Python's fork does with args=(conn, client_addr)). The child closes
// the listening socket and runs talk(); the parent closes its copy of conn
// and reaps finished children with active_children(). Each reply also
// names the process that made it: the message upper-cased plus
// " from pid N".
//
// The server is an mp::Process of its own, started from the main program
// before any thread starts, listening on 127.0.0.1 with a port the kernel picks
// (never the seed's 8080). The clients are 5 threads of the main program;
// instead of input() each sends two fixed messages, the second only once
// all 5 have had their first answer, so all 5 connections are open and
// talking at the same time. Then the main program closes a pipe whose other
// end the server watches and wakes its accept() by connecting once more;
// the server stops, waits for all its children and exits.
//
// Checks: every client got both answers; each client was answered by one
// process, a different one for each of the 5, none of them the server
// process — one process per connection, serving at the same time; the
// server reaped all 5 children, each having exited 0.
#include <fcntl.h>
#include <poll.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <weft/multiprocessing.hpp>
#include <weft/net.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

using namespace std::chrono_literals;
namespace mp = weft::mp;
namespace net = weft::net;

constexpr int kClients = 5;

// ---- the server process ----

void talk(net::Socket& conn) {
  while (true) {
    try {
      const std::string msg = conn.recv(1024);
      if (msg.empty()) break;
      conn.send(seed::py_upper(msg) + " from pid " + std::to_string(::getpid()));
    } catch (const net::OSError&) {  // Python's `except Exception`: what recv and send raise
      break;
    }
  }
}

// Whether the main program has closed its end of the stop pipe.
bool stop_requested(int stop_fd) {
  pollfd watched{stop_fd, POLLIN, 0};
  return ::poll(&watched, 1, 0) > 0;
}

// The server's loop; ends the server process with exit code 0 only if it
// served and reaped kClients children that all exited 0.
void server_process(net::Socket& server, int stop_fd) {
  std::printf("server process %d: waiting for connections\n", int(::getpid()));
  std::vector<mp::Process> children;
  while (true) {
    auto [conn, client_addr] = server.accept();
    if (stop_requested(stop_fd)) break;
    mp::Process& p = children.emplace_back([&server, &conn, stop_fd] {
      server.close();
      ::close(stop_fd);
      talk(conn);
    });
    p.start();
    conn.close();
    std::printf("server process %d: %s is talking to process %d\n", int(::getpid()),
                seed::py_address(client_addr).c_str(), int(*p.pid()));
    mp::active_children();  // reaps the children that have finished
  }
  server.close();
  bool all_clean = true;
  for (mp::Process& p : children) {
    p.join();
    all_clean = all_clean && p.exitcode() == 0;
  }
  std::printf("server process %d: %zu connections, all of their processes joined\n",
              int(::getpid()), children.size());
  std::fflush(stdout);
  if (children.size() != kClients || !all_clean) throw mp::SystemExit{1};
}

// ---- the clients, threads of the main program ----

struct Answer {
  int client;
  int replies_right;
  pid_t first_pid;
  pid_t second_pid;
};

weft::Lock answers_lock;
std::vector<Answer> answers;
weft::Barrier all_answered_once(kClients);

// The pid named at the end of a reply, or -1 if the reply is not
// upper(msg) + " from pid N".
pid_t answered_by(const std::string& msg, const std::string& reply) {
  const std::string prefix = seed::py_upper(msg) + " from pid ";
  if (reply.compare(0, prefix.size(), prefix) != 0) return -1;
  return static_cast<pid_t>(std::atoi(reply.c_str() + prefix.size()));
}

void client(int n, const net::Address& address) {
  net::Socket c(AF_INET, SOCK_STREAM);
  c.connect(address);
  Answer answer{n, 0, -1, -1};
  pid_t* pids[] = {&answer.first_pid, &answer.second_pid};
  for (int i = 0; i < 2; ++i) {
    if (i == 1) all_answered_once.wait(30s);
    const std::string msg =
        (i == 0 ? "hello from client " : "bye from client ") + std::to_string(n);
    c.send(msg);
    const std::string reply = c.recv(1024);
    std::printf(">>: %s\n%s\n", msg.c_str(), reply.c_str());
    *pids[i] = answered_by(msg, reply);
    if (*pids[i] > 0) ++answer.replies_right;
  }
  c.close();
  std::lock_guard<weft::Lock> guard(answers_lock);
  answers.push_back(answer);
}

int main() {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // whole lines, before any fork

  net::Socket server(AF_INET, SOCK_STREAM);
  server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server.bind(net::Address::ipv4("127.0.0.1", 0));
  server.listen(5);
  const net::Address address = server.getsockname();

  int stop_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
    std::perror("pipe2");
    return 1;
  }
  mp::Process server_proc([&] {
    ::close(stop_pipe[1]);
    server_process(server, stop_pipe[0]);
  });
  server_proc.start();
  const pid_t server_pid = *server_proc.pid();
  ::close(stop_pipe[0]);
  server.close();

  {
    std::vector<std::unique_ptr<weft::Thread>> clients;
    for (int n = 0; n < kClients; ++n) {
      clients.push_back(std::make_unique<weft::Thread>(client, n, address));
      clients.back()->start();
    }
  }  // the clients are joined here

  ::close(stop_pipe[1]);
  try {
    net::create_connection(address).close();
  } catch (const net::OSError& e) {
    std::printf("could not wake the server: %s\n", e.what());
  }
  server_proc.join();

  std::set<pid_t> pids;
  bool all_right = answers.size() == kClients;
  bool one_process_each = true;
  for (const Answer& answer : answers) {
    all_right = all_right && answer.replies_right == 2;
    one_process_each = one_process_each && answer.first_pid == answer.second_pid;
    pids.insert(answer.first_pid);
  }
  const bool none_is_server = !pids.contains(server_pid) && !pids.contains(::getpid());
  std::printf("main %d, server process %d, the clients were answered by %zu processes:",
              int(::getpid()), int(server_pid), pids.size());
  for (const pid_t pid : pids) std::printf(" %d", int(pid));
  std::printf("\n");

  seed::check(all_right, "every client got both its answers, upper-cased");
  seed::check(one_process_each && pids.size() == kClients && none_is_server,
              "each of the 5 clients had a process of its own, all 5 at once, none of them "
              "the server");
  seed::check(server_proc.exitcode() == 0,
              "the server reaped all 5 children, each exited 0, and ended cleanly");
  return seed::verdict();
}
