// libFuzzer target: arbitrary bytes decode as a value or raise DecodeError.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "codec/decode_any.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  weft::codec::testing::decode_any(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
