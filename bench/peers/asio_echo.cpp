// bench/peers/asio_echo.cpp — the shootout's Boost.Asio peer: Asio's own
// canonical async echo server (a session per connection chaining
// async_read_some into async_write, a server chaining async_accept), on
// one io_context run by one thread, with a 64 KiB buffer per session. In
// http mode a session counts the requests it read and writes one canned
// response for each instead of echoing.
//
//   weft_peer_asio --port P [--protocol echo|http] [--threads N]
//
// Binds 127.0.0.1:P (0 = any free port), prints "listening on
// 127.0.0.1:PORT" once accepting, serves until SIGTERM or SIGINT, exits 0.
// With --threads N, N io_contexts each run one thread and own a
// SO_REUSEPORT acceptor on that port.
#include <sys/resource.h>
#include <sys/socket.h>

#include <utility>  // Boost 1.74's Asio needs it included first under GCC 12, C++20

#include <boost/asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "weft/protocol.hpp"

using boost::asio::ip::tcp;

namespace {

constexpr std::size_t kBufferSize = 64 * 1024;
constexpr int kMaxThreads = 64;
using reuse_port = boost::asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

class session : public std::enable_shared_from_this<session> {
 public:
  session(tcp::socket socket, bool http) : socket_(std::move(socket)), http_(http) {}

  void start() { do_read(); }

 private:
  void do_read() {
    auto self(shared_from_this());
    socket_.async_read_some(boost::asio::buffer(data_),
                            [this, self](boost::system::error_code ec, std::size_t length) {
                              if (!ec) on_read(length);
                            });
  }

  void on_read(std::size_t length) {
    if (!http_) {
      do_write(boost::asio::buffer(data_.data(), length));
      return;
    }
    const std::size_t count = requests_.feed(std::string_view(data_.data(), length));
    if (count == 0) {
      do_read();
      return;
    }
    replies_.clear();
    for (std::size_t i = 0; i < count; ++i) replies_ += weft::tool::kHttpResponse;
    do_write(boost::asio::buffer(replies_));
  }

  void do_write(boost::asio::const_buffer bytes) {
    auto self(shared_from_this());
    boost::asio::async_write(socket_, bytes,
                             [this, self](boost::system::error_code ec, std::size_t /*length*/) {
                               if (!ec) do_read();
                             });
  }

  tcp::socket socket_;
  bool http_;
  std::array<char, kBufferSize> data_;
  std::string replies_;
  weft::tool::HttpRequestCounter requests_;
};

class server {
 public:
  server(boost::asio::io_context& io_context, unsigned short port, bool reuse, bool http)
      : acceptor_(io_context), http_(http) {
    const tcp::endpoint endpoint(boost::asio::ip::address_v4::loopback(), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    if (reuse) acceptor_.set_option(reuse_port(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(4096);
    do_accept();
  }

  unsigned short port() const { return acceptor_.local_endpoint().port(); }

 private:
  void do_accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (!ec) {
        socket.set_option(tcp::no_delay(true));
        std::make_shared<session>(std::move(socket), http_)->start();
      }
      do_accept();
    });
  }

  tcp::acceptor acceptor_;
  bool http_;
};

void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

[[noreturn]] void usage(const char* argv0) {
  std::cerr << "usage: " << argv0 << " --port P [--protocol echo|http] [--threads N]\n";
  std::exit(2);
}

}  // namespace

int main(int argc, char* argv[]) {
  int port = -1;
  bool http = false;
  int threads = 1;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc) usage(argv[0]);
    const std::string flag = argv[i];
    const std::string value = argv[++i];
    if (flag == "--port") {
      port = std::atoi(value.c_str());
    } else if (flag == "--protocol" && (value == "echo" || value == "http")) {
      http = value == "http";
    } else if (flag == "--threads") {
      threads = std::atoi(value.c_str());
    } else {
      usage(argv[0]);
    }
  }
  if (port < 0 || port > 65535 || threads < 1 || threads > kMaxThreads) usage(argv[0]);
  raise_fd_limit();

  try {
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts;
    std::vector<std::unique_ptr<server>> servers;
    for (int t = 0; t < threads; ++t) {
      contexts.push_back(std::make_unique<boost::asio::io_context>(1));
      const auto bind_port = static_cast<unsigned short>(t == 0 ? port : servers[0]->port());
      servers.push_back(std::make_unique<server>(*contexts.back(), bind_port, threads > 1, http));
    }

    boost::asio::signal_set signals(*contexts[0], SIGINT, SIGTERM);
    signals.async_wait([&contexts](boost::system::error_code, int) {
      for (auto& context : contexts) context->stop();
    });

    std::printf("listening on 127.0.0.1:%u\n", static_cast<unsigned>(servers[0]->port()));
    std::fflush(stdout);

    std::vector<std::thread> others;
    for (int t = 1; t < threads; ++t) others.emplace_back([&contexts, t] { contexts[t]->run(); });
    contexts[0]->run();
    for (auto& other : others) other.join();
  } catch (const std::exception& e) {
    std::cerr << "weft_peer_asio: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
