// seed_http.hpp — what the HTTP seed twins (the gevent crawlers of seeds 000
// and 003) share: a local web server that answers each page after a delay,
// and Python's urlopen(url).read() on libcurl, with the seed's web sites
// mapped to that server.
//
// The seeds fetch real sites; the twins never touch the network. fetch()
// asks libcurl to connect to the local server whatever the URL's host
// (CURLOPT_CONNECT_TO), so the twins keep the seeds' URLs (over http://:
// the server speaks no TLS) and the server tells the sites apart by the
// request's Host header.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <weft/net.hpp>

namespace seed {

// One page of the server: the URL it answers ("http://host/path"), how
// long it makes the client wait, and how many bytes it sends.
struct Page {
  std::string url;
  std::chrono::milliseconds delay;
  std::size_t bytes;
};

// An HTTP/1.1 server on 127.0.0.1 (a port the kernel picks) running on
// threads of its own, one per connection, with plain blocking sockets: it
// reads a GET request, waits the page's delay, answers 200 with the page's
// bytes (404 for an unknown URL) and closes the connection. The destructor
// stops it and joins its threads. Not copyable; in_flight()/peak() are
// thread-safe.
class DelayedHttpServer {
 public:
  explicit DelayedHttpServer(std::vector<Page> pages) {
    for (Page& page : pages) pages_.emplace(page.url, std::move(page));
    listener_.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
    listener_.bind(weft::net::Address::ipv4("127.0.0.1", 0));
    listener_.listen(1024);
    address_ = listener_.getsockname();
    acceptor_ = std::thread([this] { accept_loop(); });
  }

  ~DelayedHttpServer() {
    stopping_.store(true);
    weft::net::create_connection(address_).close();  // wakes accept()
    acceptor_.join();
    for (std::thread& worker : workers_) worker.join();
  }

  DelayedHttpServer(const DelayedHttpServer&) = delete;
  DelayedHttpServer& operator=(const DelayedHttpServer&) = delete;

  std::uint16_t port() const { return address_.port(); }

  // The most requests the server was answering at once since reset_peak().
  int peak() const { return peak_.load(); }
  void reset_peak() { peak_.store(in_flight_.load()); }

 private:
  void accept_loop() {
    while (true) {
      auto [conn, address] = listener_.accept();
      if (stopping_.load()) return;
      workers_.emplace_back([this, conn = std::move(conn)]() mutable { serve(std::move(conn)); });
    }
  }

  void serve(weft::net::Socket conn) {
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      std::string more = conn.recv(4096);
      if (more.empty()) return;
      request += more;
    }
    const int now = in_flight_.fetch_add(1) + 1;
    int peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
    const auto page = pages_.find(url_of(request));
    std::string reply;
    if (page == pages_.end()) {
      reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    } else {
      std::this_thread::sleep_for(page->second.delay);
      reply = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " +
              std::to_string(page->second.bytes) + "\r\nConnection: close\r\n\r\n" +
              std::string(page->second.bytes, 'x');
    }
    in_flight_.fetch_sub(1);
    conn.sendall(reply);
    conn.close();
  }

  // "http://<Host header><path>" of a request "GET <path> HTTP/1.1\r\n...".
  static std::string url_of(std::string_view request) {
    const std::size_t path_start = request.find(' ') + 1;
    const std::string_view path = request.substr(path_start, request.find(' ', path_start) - path_start);
    std::string_view host;
    const std::size_t header = request.find("\r\nHost: ");
    if (header != std::string_view::npos) {
      const std::size_t start = header + 8;
      host = request.substr(start, request.find("\r\n", start) - start);
    }
    return "http://" + std::string(host) + std::string(path);
  }

  std::map<std::string, Page, std::less<>> pages_;
  weft::net::Socket listener_;
  weft::net::Address address_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_{0};
  std::thread acceptor_;
  std::vector<std::thread> workers_;  // only the acceptor thread adds to it
};

// Python's urlopen(url).read() for the seed's `url`, fetched from the
// local server on `port` with a blocking curl_easy_perform (which, under
// weft::green::monkey::patch_all(), parks the calling greenlet instead of
// blocking its thread). Throws std::runtime_error if the transfer fails.
inline std::string urlopen_read(const std::string& url, std::uint16_t port) {
  const std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  const std::string connect_to = "::127.0.0.1:" + std::to_string(port);
  const std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> connect_list(
      curl_slist_append(nullptr, connect_to.c_str()), &curl_slist_free_all);
  std::string body;
  auto write = +[](char* data, std::size_t size, std::size_t count, void* out) -> std::size_t {
    static_cast<std::string*>(out)->append(data, size * count);
    return size * count;
  };
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CONNECT_TO, connect_list.get());
  curl_easy_setopt(curl.get(), CURLOPT_PROXY, "");  // never a proxy from the environment
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, write);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  const CURLcode code = curl_easy_perform(curl.get());
  if (code != CURLE_OK) throw std::runtime_error(url + ": " + curl_easy_strerror(code));
  return body;
}

}  // namespace seed
