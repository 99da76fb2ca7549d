// Seed 002, "Python中的selectors模块就是帮我们自动选择最佳IO多路复用代理的"
// (基于selectors模块实现聊天): the server registers its listening socket
// (SO_REUSEADDR, listen(5), setblocking(False)) with a DefaultSelector and
// the callback accept as data; accept registers each conn with the
// callback read, which answers data.upper()+b'_SB', or prints 'closing'
// and unregisters and closes the conn when it gets b'' or an error. The
// loop: for each (key, mask) of sel.select(), callback = key.data;
// callback(key.fileobj, mask). The client connects and, for each line
// typed at input('>>: '), sends it and prints the decoded reply.
//
// The twin's selector is weft::selectors::DefaultSelector (epoll here, as
// in Python on Linux) whose data is a std::function — the same
// `key.data(key.fileobj, mask)` loop. A key's fileobj is the descriptor in
// C++, so the sockets behind the descriptors live in a table. The server
// runs in a weft::Thread on 127.0.0.1 with a port the kernel picks (never
// the seed's 8088); the client, in the main thread, sends a fixed list of
// messages instead of reading input(), printing each prompt and reply,
// then leaves. To stop the server, the read end of a socketpair is
// registered too, with a callback that sets a stop flag: the main thread
// writes a byte to the other end once the client is gone, and the loop
// ends when no connection is left.
//
// Checks: every reply is the message upper-cased plus "_SB"; the server
// printed 'closing' when the client left.
#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <weft/net.hpp>
#include <weft/selectors.hpp>
#include <weft/threading.hpp>

#include "seed_check.hpp"
#include "seed_net.hpp"

namespace net = weft::net;
namespace selectors = weft::selectors;

using Callback = std::function<void(int fileobj, int mask)>;

// The server: the seed's module-level state and callbacks, in a namespace of
// their own so that read and accept are not the C library's. Only the server
// thread touches them.
namespace {

selectors::DefaultSelector<Callback> sel;
std::unordered_map<int, net::Socket> sockets;  // the object behind each descriptor
int connections = 0;
bool stopping = false;
int closings = 0;  // read by main after joining the server thread

void close_conn(int fileobj) {
  net::Socket& conn = sockets.at(fileobj);
  std::printf("closing %s\n", seed::py_socket(conn).c_str());
  ++closings;
  sel.unregister(conn);
  conn.close();
  sockets.erase(fileobj);
  --connections;
}

void read(int fileobj, [[maybe_unused]] int mask) {
  net::Socket& conn = sockets.at(fileobj);
  try {
    const std::string data = conn.recv(1024);
    if (data.empty()) {
      close_conn(fileobj);
      return;
    }
    conn.send(seed::py_upper(data) + "_SB");
  } catch (const net::OSError&) {  // Python's `except Exception`: what recv and send raise
    close_conn(fileobj);
  }
}

void accept(int server_fileobj, [[maybe_unused]] int mask) {
  auto [conn, addr] = sockets.at(server_fileobj).accept();
  sel.register_(conn, selectors::EVENT_READ, read);
  ++connections;
  const int fd = conn.fileno();
  sockets.emplace(fd, std::move(conn));
}

void stop(int fileobj, [[maybe_unused]] int mask) {
  sockets.at(fileobj).recv(1);
  stopping = true;
}

void serve(net::Socket server_fileobj, net::Socket stop_end) {
  sel.register_(server_fileobj, selectors::EVENT_READ, accept);
  sel.register_(stop_end, selectors::EVENT_READ, stop);
  sockets.emplace(server_fileobj.fileno(), std::move(server_fileobj));
  sockets.emplace(stop_end.fileno(), std::move(stop_end));

  while (!(stopping && connections == 0)) {
    const auto events = sel.select();
    for (const auto& [sel_obj, mask] : events) {
      const Callback& callback = sel_obj.data;
      callback(sel_obj.fileobj, mask);
    }
  }
  for (auto& [fd, sock] : sockets) sel.unregister(fd);
  sockets.clear();
}

}  // namespace

int main() {
  net::Socket server_fileobj(AF_INET, SOCK_STREAM);
  server_fileobj.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  server_fileobj.bind(net::Address::ipv4("127.0.0.1", 0));
  server_fileobj.listen(5);
  server_fileobj.setblocking(false);
  const net::Address address = server_fileobj.getsockname();
  auto [stop_server_end, stop_main_end] = net::socketpair();
  weft::Thread server_thread(serve, std::move(server_fileobj), std::move(stop_server_end));
  server_thread.start();

  const std::vector<std::string> lines = {"hello", "weft", "selectors"};
  int right = 0;
  {
    net::Socket c(AF_INET, SOCK_STREAM);
    c.connect(address);
    for (const std::string& msg : lines) {
      std::printf(">>: %s\n", msg.c_str());
      c.send(msg);
      const std::string data = c.recv(1024);
      std::printf("%s\n", data.c_str());
      if (data == seed::py_upper(msg) + "_SB") ++right;
    }
  }  // the client leaves: its socket closes here

  stop_main_end.send("x");
  server_thread.join();

  seed::check(right == int(lines.size()), "every reply was the message upper-cased + \"_SB\"");
  seed::check(closings == 1, "the server printed 'closing' when the client left");
  return seed::verdict();
}
