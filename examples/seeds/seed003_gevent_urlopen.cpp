// Seed 003, 遇到IO阻塞时会自动切换任务 (switching automatically on blocking IO):
// monkey.patch_all(); f(url) prints 'GET: %s', reads urlopen(url) and
// prints '%d bytes received from %s.';
// gevent.joinall([gevent.spawn(f, 'https://www.python.org/'),
//                 gevent.spawn(f, 'https://www.yahoo.com/'),
//                 gevent.spawn(f, 'https://github.com/')]).
//
// The twin fetches with libcurl's blocking curl_easy_perform — an
// unmodified C library, Python's urlopen — from a local server
// (seed_http.hpp) that serves the three sites over http://, each page
// answered after 300 ms.
//
// Shows weft::green::monkey::patch_all(): the three greenlets' blocking
// fetches overlap on one thread, so joinall() returns after about one
// delay, with all three requests at the server at once. For comparison the
// twin then runs the same joinall after monkey::unpatch_all(): curl's calls
// block the whole thread again, the greenlets fetch one after another, and
// it takes three delays — gevent without patch_all ("相当于串行操作", as
// seed 000 puts it).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <weft/gevent.hpp>

#include "seed_check.hpp"
#include "seed_http.hpp"

using namespace std::chrono_literals;
namespace green = weft::green;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kDelay = 300ms;
constexpr std::size_t kPageBytes = 20'000;

const std::vector<std::string> kUrls = {"http://www.python.org/", "http://www.yahoo.com/",
                                        "http://github.com/"};

std::uint16_t port = 0;
std::set<std::string> fetched_whole;

void f(const std::string& url) {
  std::printf("GET: %s\n", url.c_str());
  const std::string data = seed::urlopen_read(url, port);
  std::printf("%zu bytes received from %s.\n", data.size(), url.c_str());
  if (data.size() == kPageBytes) fetched_whole.insert(url);
}

// The seed's joinall; returns how long it took.
std::chrono::duration<double> fetch_all() {
  fetched_whole.clear();
  const auto start = Clock::now();
  green::joinall({
      green::spawn(f, kUrls[0]),
      green::spawn(f, kUrls[1]),
      green::spawn(f, kUrls[2]),
  });
  return Clock::now() - start;
}

int main() {
  green::monkey::patch_all();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  std::vector<seed::Page> pages;
  for (const std::string& url : kUrls) pages.push_back({url, kDelay, kPageBytes});
  seed::DelayedHttpServer server(pages);
  port = server.port();

  const auto patched = fetch_all();
  const bool patched_whole = fetched_whole.size() == kUrls.size();
  const int patched_peak = server.peak();

  std::printf("-- the same without monkey patching --\n");
  green::monkey::unpatch_all();
  server.reset_peak();
  const auto unpatched = fetch_all();

  std::printf("patched: %.3f s; unpatched: %.3f s (each page takes %.3f s)\n", patched.count(),
              unpatched.count(), std::chrono::duration<double>(kDelay).count());
  seed::check(patched_whole && patched_peak == 3,
              "patched: the three greenlets' requests were at the server at once; every page arrived whole");
  seed::check(patched >= kDelay && patched < 2 * kDelay,
              "patched: joinall() returned after about one delay, not three");
  seed::check(fetched_whole.size() == kUrls.size() && server.peak() == 1 && unpatched >= 3 * kDelay,
              "unpatched: curl blocked the thread, so the greenlets fetched one after another");
  curl_global_cleanup();
  return seed::verdict();
}
