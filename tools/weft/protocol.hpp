// tools/weft/protocol.hpp — the two request/response protocols that every
// `weft serve` model answers and `weft load` drives.
//
//   echo  a request is any run of bytes; the server writes every byte back,
//         in order. The client sends `size` bytes and counts a response
//         once `size` bytes have come back.
//   http  a request is a minimal HTTP/1.1 GET ending in an empty line; the
//         server answers each with kHttpResponse on the same keep-alive
//         connection (pipelined requests are answered in order). Real
//         clients such as wrk can drive it.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace weft::tool {

enum class Protocol { echo, http };

inline constexpr std::string_view kHttpRequest =
    "GET / HTTP/1.1\r\nHost: weft\r\nConnection: keep-alive\r\n\r\n";
inline constexpr std::string_view kHttpResponse =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n"
    "Connection: keep-alive\r\n\r\nok";

inline std::optional<Protocol> parse_protocol(std::string_view name) {
  if (name == "echo") return Protocol::echo;
  if (name == "http") return Protocol::http;
  return std::nullopt;
}

// Counts complete HTTP requests in a byte stream fed in pieces: a request
// ends at "\r\n\r\n". Holds the last three bytes of the previous piece, so
// a terminator split across reads is found exactly once.
class HttpRequestCounter {
 public:
  // Returns how many requests ended inside `bytes`.
  std::size_t feed(std::string_view bytes) noexcept {
    std::size_t complete = 0;
    for (char c : bytes) {
      state_ = next(state_, c);
      if (state_ == 4) {
        ++complete;
        state_ = 0;
      }
    }
    return complete;
  }

 private:
  // state_ = how much of "\r\n\r\n" has been matched.
  static int next(int state, char c) noexcept {
    if (c == '\r') return (state == 2) ? 3 : 1;
    if (c == '\n') return (state == 1 || state == 3) ? state + 1 : 0;
    return 0;
  }
  int state_ = 0;
};

}  // namespace weft::tool
