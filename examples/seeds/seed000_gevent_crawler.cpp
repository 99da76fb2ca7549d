// Seed 000, the crawler ("协程用于多并发爬虫中效果很好"): monkey.patch_all()
// ("不加这句话,因为gevent不会辨认出urllib的有io操作,相当于串行操作"); f(url)
// prints 'GET %s', reads ul.urlopen(url) and prints
// 'recv bytes %s from %s'; four sites fetched one after another
// (print('同步时间:', ...)), then the same four with
// gevent.joinall([gevent.spawn(f, url), ...]) (print('异步时间:', ...)).
//
// The twin fetches with libcurl's blocking curl_easy_perform — an
// unmodified C library, Python's urllib — from a local server (seed_http.hpp)
// that serves the seed's four sites over http:// with the page sizes the
// document printed. Each site answers after a delay: sogou 200 ms, sohu
// 400 ms, 58 600 ms, python.org 800 ms, so the asynchronous run finishes in
// the order the document shows (sogou, sohu, 58, python.org), even on a
// machine busy enough to hold a greenlet back by most of the 200 ms gap.
//
// Shows weft::green::monkey::patch_all() on a real C library: inside a
// greenlet, curl's blocking connect/poll/recv park the greenlet instead of
// blocking the thread. One after another the fetches take the sum of the
// delays (2 s); in four greenlets on one thread, about the longest (0.8 s),
// with all four requests at the server at once.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"
#include "seed_http.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;
using Clock = std::chrono::steady_clock;

// The seed's four sites, the sizes it received, and the twin's delays.
const std::vector<seed::Page> kSites = {
    {"http://www.python.org/", 800ms, 48860},
    {"http://km.58.com/", 600ms, 104670},
    {"http://kan.sogou.com/dongman/", 200ms, 12713},
    {"http://news.sohu.com/", 400ms, 170935},
};

std::uint16_t port = 0;
std::vector<std::string> received;  // "<bytes> <url>", in the order they came

void f(const std::string& url) {
  std::printf("GET %s\n", url.c_str());
  const std::string res = seed::urlopen_read(url, port);
  std::printf("recv bytes %zu from %s\n", res.size(), url.c_str());
  received.push_back(std::to_string(res.size()) + " " + url);
}

int main() {
  green::monkey::patch_all();  // 这个标识代表把所有程序都当做io直接切换操作
  curl_global_init(CURL_GLOBAL_DEFAULT);
  seed::DelayedHttpServer server(kSites);
  port = server.port();

  const auto time_start = Clock::now();
  for (const seed::Page& site : kSites) f(site.url);
  const std::chrono::duration<double> sync_time = Clock::now() - time_start;
  std::printf("同步时间: %f\n", sync_time.count());
  const std::vector<std::string> sync_received = std::exchange(received, {});
  const int sync_peak = server.peak();
  server.reset_peak();

  const auto async_start = Clock::now();
  green::joinall({green::spawn(f, kSites[0].url), green::spawn(f, kSites[1].url),
                  green::spawn(f, kSites[2].url), green::spawn(f, kSites[3].url)});
  const std::chrono::duration<double> async_time = Clock::now() - async_start;
  std::printf("异步时间: %f\n", async_time.count());

  std::vector<std::string> expected;
  for (const seed::Page& site : kSites) expected.push_back(std::to_string(site.bytes) + " " + site.url);
  seed::check(sync_received == expected && sync_peak == 1 && sync_time >= 2s,
              "one after another, every page arrived whole, one request at a time: 2 s in all");
  const std::vector<std::string> by_delay = {expected[2], expected[3], expected[1], expected[0]};
  seed::check(received == by_delay,
              "in greenlets every page arrived whole, in the document's order: sogou, sohu, 58, python.org");
  seed::check(server.peak() == 4, "the four greenlets had their requests at the server at once");
  seed::check(async_time >= 800ms && async_time < 1500ms,
              "the greenlets fetched together: about the slowest site's 0.8 s, not the sum's 2 s");
  curl_global_cleanup();
  return seed::verdict();
}
