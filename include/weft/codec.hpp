// weft/codec.hpp — how a value crosses a process or machine boundary.
//
// encode() turns a value into bytes and decode<T>() turns bytes back into a
// T. The wire format is MessagePack (msgpack-cxx), so programs in other
// languages can read what weft writes. Python's pickle plays this role in
// multiprocessing; unlike pickle, decoding runs no code from the bytes.
//
// Supported out of the box (weft/codec/adaptors.hpp adds what msgpack-cxx
// lacks):
//   bool; every integer type (decoding range-checks: 300 is not a uint8_t);
//   float, double (always as float32/float64; integers decode as floating
//   point too); std::string;
//   bytes (codec::Bytes = std::vector<std::byte>, MessagePack bin);
//   std::string_view and std::span<const std::byte> (encoding only);
//   std::vector, array, deque, list, map, unordered_map, set, unordered_set;
//   std::pair and std::tuple (arrays; a tuple, and a std::array, may be
//   decoded from a shorter array, leaving the missing elements
//   value-initialised — one that cannot be, or is a pointer, is an error —
//   and a tuple from a longer one, ignoring the extra elements: see
//   weft/codec/detail/msgpack.hpp); std::array<char or unsigned char, N>
//   (bin; a shorter bin or str leaves the rest zeroed); std::optional (nil
//   when empty);
//   std::variant (a two-element array [index, value]; std::monostate is nil);
//   enums (their underlying integer); std::chrono::duration (its count);
//   user structs opting in with WEFT_CODEC(fields...) (weft/codec/struct.hpp);
//   any type with msgpack-cxx adaptors (specialise msgpack::adaptor::pack<T>
//   and convert<T>, or as<T> for types without a default constructor;
//   include weft's headers before <msgpack.hpp>, which is otherwise a
//   compile error).
//
// Decoding never trusts its input: malformed, truncated or hostile bytes,
// a type mismatch, an integer out of the target's range, a finite number
// too large for a float (as Python's struct.pack('f', ...) refuses it; an
// infinity or NaN decodes, smaller numbers round), nesting deeper than
// max_depth and trailing bytes after the value all raise DecodeError.
// No declared size is believed beyond the bytes actually present, so a
// five-byte header claiming four billion elements allocates nothing. A
// container is still allocated whole before its elements are decoded, so
// each byte of input can cost one element's size: decoding containers of
// large elements from untrusted peers needs a bound on the input's size.
// Running out of memory while decoding is a DecodeError too.
//
// Every function here is thread-safe: the only state is one scratch zone
// per thread, reused so that decoding small values does not allocate.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "weft/codec/detail/msgpack.hpp"

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

// Raw bytes: encoded as MessagePack bin (Python bytes), not as an array.
using Bytes = std::vector<std::byte>;

// The deepest nesting of arrays and maps decode() accepts.
inline constexpr std::size_t max_depth = 512;

}  // namespace weft::codec

// sink.hpp first: it specialises the packer before anything can use it.
#include "weft/codec/detail/sink.hpp"
#include "weft/codec/adaptors.hpp"
#include "weft/codec/detail/decode.hpp"
#include "weft/codec/struct.hpp"
#include "weft/codec/detail/borrows.hpp"

namespace weft::codec {

// Appends the encoding of `value` to `out` (no intermediate buffer).
// Does not block. Throws EncodeError if the value refuses to be encoded or
// holds a string, byte string or container longer than MessagePack's limit
// of 2^32 - 1, and std::bad_alloc if memory runs out; `out` may then hold a
// partial encoding after its original contents.
template <typename T>
void encode_into(std::string& out, const T& value) {
  detail::StringSink sink{&out};
  msgpack::packer<detail::StringSink> packer(sink);
  try {
    packer.pack(value);
  } catch (const msgpack::container_size_overflow&) {
    throw EncodeError("codec: a string, byte string or container is longer than MessagePack's 2^32 - 1");
  }
}

// The encoding of `value`. Does not block. Throws as encode_into().
template <typename T>
std::string encode(const T& value) {
  std::string out;
  encode_into(out, value);
  return out;
}

// The T encoded in `bytes`, which must hold exactly one value. Does not
// block. Throws DecodeError for anything but a well-formed encoding of a T
// (see the top of this file); exceptions thrown by a user type's own
// adaptor pass through unchanged.
template <typename T>
T decode(std::string_view bytes) {
  static_assert(detail::owns_its_data<T>,
                "decode<T>: T would refer into the input or a scratch zone; "
                "decode std::string / codec::Bytes instead");
  detail::Parsed parsed(bytes);
  try {
    return detail::value_of<T>(parsed.object());
  } catch (const msgpack::type_error&) {
    detail::throw_type_mismatch(typeid(T));
  } catch (const msgpack::unpack_error& e) {
    detail::throw_unpack_error(e, bytes.size());
  } catch (const std::bad_alloc&) {
    detail::throw_out_of_memory(typeid(T), bytes.size());
  }
}

template <typename T>
T decode(std::span<const std::byte> bytes) {
  return decode<T>(
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace weft::codec
