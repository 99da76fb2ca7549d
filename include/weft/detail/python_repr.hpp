// weft/detail/python_repr.hpp — Python's repr() of values weft prints in
// messages that mirror CPython's.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace weft::detail {

// Python's repr() of a bytes object: b'...' with Python's choice of quote
// and its escapes (\t, \n, \r, \\, \xNN for every byte outside printable
// ASCII). Never throws beyond bad_alloc.
inline std::string bytes_repr(std::string_view bytes) {
  const bool has_single = bytes.find('\'') != std::string_view::npos;
  const char quote = has_single && bytes.find('"') == std::string_view::npos ? '"' : '\'';
  std::string out = "b";
  out += quote;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  out += quote;
  return out;
}

}  // namespace weft::detail
