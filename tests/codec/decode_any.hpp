// The decode routine shared by the fuzzer and the corpus replay test:
// decodes arbitrary bytes as a handful of representative types.
#pragma once

#include <string_view>

namespace weft::codec::testing {

// Decodes `bytes` as each representative type. Every attempt must either
// produce a value, which must then survive an encode/decode round trip,
// or throw codec::DecodeError; anything else escapes (and, in the
// fuzzer, aborts). Returns how many of the types decoded.
int decode_any(std::string_view bytes);

}  // namespace weft::codec::testing
