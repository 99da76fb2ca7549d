// tools/weft/serve/responder.hpp — what a server writes back for the bytes
// it read, per protocol (see protocol.hpp): echo returns them, http answers
// each complete request with the fixed response. One per connection.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "weft/protocol.hpp"

namespace weft::tool {

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
