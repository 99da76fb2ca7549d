// weft/codec/detail/sink.hpp — what codec::encode_into() packs into: a
// msgpack-cxx packer writing straight into a std::string.
//
// msgpack-cxx 4 writes a float or double that holds an integral value as
// a MessagePack integer. That loses the sign of -0.0, makes other
// languages read an int where C++ wrote a float (Python's msgpack gives
// 1, not 1.0), and converts 2^64 to uint64_t (undefined behaviour). The
// packer weft uses writes every float as float32 and every double as
// float64, as Python's msgpack does.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>

#include "weft/codec/detail/msgpack.hpp"

namespace weft::codec::detail {

struct StringSink {
  std::string* out;
  void write(const char* data, std::size_t size) { out->append(data, size); }
};

}  // namespace weft::codec::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {  // where msgpack-cxx defines its packer

template <>
inline packer<weft::codec::detail::StringSink>&
packer<weft::codec::detail::StringSink>::pack_float(float d) {
  char buf[5];
  buf[0] = static_cast<char>(0xcau);
  _msgpack_store32(&buf[1], std::bit_cast<std::uint32_t>(d));
  append_buffer(buf, 5);
  return *this;
}

template <>
inline packer<weft::codec::detail::StringSink>&
packer<weft::codec::detail::StringSink>::pack_double(double d) {
  char buf[9];
  buf[0] = static_cast<char>(0xcbu);
  _msgpack_store64(&buf[1], std::bit_cast<std::uint64_t>(d));
  append_buffer(buf, 9);
  return *this;
}

}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack
