// tools/weft/serve/responder.hpp — what a server writes back for the bytes
// it read, per protocol (see protocol.hpp): echo returns them, http answers
// each complete request with the fixed response. One per connection.
//
// The models that buffer replies a peer has not taken yet stop reading from
// that peer while kPauseReadingAt bytes of them wait, and read again once
// they have drained to kResumeReadingAt, as asyncio's drain() does with its
// high- and low-water marks: a peer that sends and never reads cannot grow
// the server without limit. The blocking models push back by themselves.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "weft/protocol.hpp"

namespace weft::tool {

inline constexpr std::size_t kPauseReadingAt = 1 << 20;
inline constexpr std::size_t kResumeReadingAt = 256 << 10;

// Whether a connection reads, given how many bytes of its replies wait:
// not from kPauseReadingAt on, again from kResumeReadingAt down.
class ReadGate {
 public:
  bool open(std::size_t waiting) {
    if (waiting >= kPauseReadingAt) open_ = false;
    else if (waiting <= kResumeReadingAt) open_ = true;
    return open_;
  }

 private:
  bool open_ = true;
};

class Responder {
 public:
  explicit Responder(Protocol protocol) : protocol_(protocol) {}

  // Appends the reply to `input` to `output`.
  void respond(std::string_view input, std::string& output) {
    if (protocol_ == Protocol::echo) {
      output.append(input);
      return;
    }
    for (std::size_t n = requests_.feed(input); n > 0; --n) output.append(kHttpResponse);
  }

 private:
  Protocol protocol_;
  HttpRequestCounter requests_;
};

}  // namespace weft::tool
