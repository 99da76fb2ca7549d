// weft/codec.hpp — how a value crosses a process or machine boundary.
//
// encode() turns a value into bytes and decode<T>() turns bytes back into a
// T. The wire format is MessagePack (msgpack-cxx), so programs in other
// languages can read what weft writes. Supported out of the box: arithmetic
// types, bool, std::string, byte vectors, the standard containers,
// std::pair/tuple/optional, and user types that opt in (see
// weft/codec/struct.hpp once it exists) or specialise msgpack's adaptors.
//
// Decoding never trusts its input: malformed, truncated or hostile bytes
// raise codec::DecodeError and never crash or allocate without bound.
// Every function here is thread-safe (no shared state).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include <msgpack.hpp>

#include "weft/errors.hpp"

namespace weft::codec {

// The bytes could not be decoded as the requested type: malformed or
// truncated MessagePack, a type mismatch, trailing bytes, or sizes beyond
// the decoder's limits. Python's pickle.UnpicklingError plays this role.
class DecodeError : public ValueError {
 public:
  using ValueError::ValueError;
};

// The value could not be encoded (for example an object that may only be
// shared with a child process while it is being started).
class EncodeError : public ValueError {
 public:
  using ValueError::ValueError;
};

}  // namespace weft::codec
