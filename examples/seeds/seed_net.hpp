// seed_net.hpp — what the socket seed twins share: Python's way of printing
// what their servers and clients print (a bytes object as b'hello', a socket
// as <socket.socket fd=5, ...>), bytes.upper(), seed 002's client.py, and
// the CPU time a server loop burned (and how long it never slept).
// Header-only, no state.
#pragma once

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <weft/detail/python_repr.hpp>
#include <weft/net.hpp>
#include <weft/threading.hpp>

namespace seed {

// repr(b): b'...' with Python's quoting and escapes (\t, \n, \r, \\, \xNN
// for every byte outside printable ASCII). Never throws beyond bad_alloc.
inline std::string py_bytes(std::string_view data) { return weft::detail::bytes_repr(data); }

// bytes.upper(): ASCII letters only, every other byte unchanged.
inline std::string py_upper(std::string data) {
  for (char& ch : data)
    if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
  return data;
}

// An IP address as Python prints the tuple: ('127.0.0.1', 8080).
inline std::string py_address(const weft::net::Address& address) {
  return "('" + address.host() + "', " + std::to_string(address.port()) + ")";
}

// repr(sock) for an open socket, as Python 3 prints it:
// <socket.socket fd=5, family=2, type=1, proto=0, laddr=(...), raddr=(...)>,
// without laddr/raddr when the socket has none (unbound, not connected).
inline std::string py_socket(const weft::net::Socket& sock) {
  std::string out = "<socket.socket fd=" + std::to_string(sock.fileno()) +
                    ", family=" + std::to_string(sock.family()) +
                    ", type=" + std::to_string(sock.type()) +
                    ", proto=" + std::to_string(sock.proto());
  try {
    out += ", laddr=" + py_address(sock.getsockname());
  } catch (const weft::net::OSError&) {
  }
  try {
    out += ", raddr=" + py_address(sock.getpeername());
  } catch (const weft::net::OSError&) {
  }
  return out + ">";
}

// The CPU time the calling thread has used so far, user and system.
inline double thread_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  const auto seconds = [](const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The time the calling thread has spent running on a core or waiting in a
// run queue for one (the first two fields of /proc/thread-self/schedstat):
// all of its life except the time it slept in the kernel, however busy the
// machine. A negative value if the kernel does not keep these statistics.
inline double thread_runnable_seconds() {
  std::FILE* file = std::fopen("/proc/thread-self/schedstat", "r");
  if (file == nullptr) return -1;
  unsigned long long on_cpu_ns = 0, queued_ns = 0;
  const bool read = std::fscanf(file, "%llu %llu", &on_cpu_ns, &queued_ns) == 2;
  std::fclose(file);
  return read ? double(on_cpu_ns + queued_ns) / 1e9 : -1;
}

// Seed 002's client.py, `count` clients at once:
//
//   def func():
//       sk = socket.socket(); sk.connect(('127.0.0.1', 8080)); sk.send(b'hello')
//       time.sleep(1); print(sk.recv(1024)); sk.close()
//   for i in range(count): threading.Thread(target=func).start()
//
// Blocks until every client has finished (about a second: they sleep
// together); returns how many got `expected` back.
inline int run_hello_clients(const weft::net::Address& address, int count, std::string_view expected) {
  std::atomic<int> answered{0};
  auto func = [&] {
    weft::net::Socket sk;
    sk.connect(address);
    sk.send("hello");
    std::this_thread::sleep_for(std::chrono::seconds(1));
    const std::string reply = sk.recv(1024);
    std::printf("%s\n", py_bytes(reply).c_str());
    if (reply == expected) answered.fetch_add(1);
    sk.close();
  };
  std::vector<std::unique_ptr<weft::Thread>> clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<weft::Thread>(func));
    clients.back()->start();
  }
  for (auto& client : clients) client->join();
  return answered.load();
}

}  // namespace seed
