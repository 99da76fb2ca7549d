// Queue names as weft::dist accepts them.
#include "weft/dist/detail/wire.hpp"

#include <string>

#include "weft/errors.hpp"

namespace weft::dist::detail {

void check_queue_name(std::string_view name) {
  if (name.empty() || name.size() > 200)
    throw ValueError("a queue name has 1 to 200 characters, not " + std::to_string(name.size()));
  for (const char c : name) {
    if (c == '{' || c == '}' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw ValueError("a queue name cannot contain '{', '}' or control characters: \"" + std::string(name) + "\"");
  }
}

}  // namespace weft::dist::detail
