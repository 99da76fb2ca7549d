#include "codec/decode_any.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "weft/codec.hpp"

namespace weft::codec::testing {
namespace {

struct Node {
  std::int32_t value = 0;
  std::vector<Node> children;
  WEFT_CODEC(value, children)
};

struct Record {
  std::string name;
  std::optional<double> score;
  std::map<std::string, std::vector<std::int64_t>> tags;
  std::variant<std::monostate, bool, std::string, Bytes> extra;
  WEFT_CODEC(name, score, tags, extra)
};

template <typename T>
int attempt(std::string_view bytes) {
  T value;
  try {
    value = decode<T>(bytes);
  } catch (const DecodeError&) {
    return 0;
  }
  // Compared as encodings, so that a NaN counts as equal to itself.
  const std::string again = encode(value);
  if (encode(decode<T>(again)) != again) std::abort();
  return 1;
}

}  // namespace

int decode_any(std::string_view bytes) {
  return attempt<std::int64_t>(bytes) + attempt<std::uint8_t>(bytes) + attempt<double>(bytes) +
         attempt<bool>(bytes) + attempt<std::string>(bytes) + attempt<Bytes>(bytes) +
         attempt<std::vector<std::int32_t>>(bytes) +
         attempt<std::map<std::string, std::string>>(bytes) +
         attempt<std::tuple<int, std::string, std::optional<bool>>>(bytes) +
         attempt<std::variant<std::monostate, std::int64_t, std::string, std::vector<float>>>(
             bytes) +
         attempt<std::tuple<std::string, std::variant<std::monostate, std::int64_t>>>(bytes) +
         attempt<std::array<std::variant<std::monostate, bool>, 3>>(bytes) +
         attempt<std::array<char, 8>>(bytes) + attempt<Node>(bytes) + attempt<Record>(bytes);
}

}  // namespace weft::codec::testing
