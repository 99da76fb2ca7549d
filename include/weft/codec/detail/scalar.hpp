// weft/codec/detail/scalar.hpp — the fast path of decode(): a value that is
// not an array or a map becomes a msgpack::object directly, without
// msgpack-cxx's parser or a zone (strings, bins and exts refer into the
// input). Produces exactly the object msgpack-cxx's parser would.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "weft/codec/detail/msgpack.hpp"

#include "weft/codec/detail/scan.hpp"

namespace weft::codec::detail {

inline void set_signed(msgpack::object& o, std::int64_t v) {
  if (v < 0) {
    o.type = msgpack::type::NEGATIVE_INTEGER;
    o.via.i64 = v;
  } else {
    o.type = msgpack::type::POSITIVE_INTEGER;
    o.via.u64 = static_cast<std::uint64_t>(v);
  }
}

// Fills `o` from `bytes`, which scan() accepted as exactly one value, and
// returns true; returns false (leaving `o` alone) for an array or a map.
inline bool scalar_object(std::string_view bytes, msgpack::object& o) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const unsigned char b = p[0];
  const auto raw = [&](msgpack::type::object_type type, std::size_t header) {
    o.type = type;
    const auto size = static_cast<std::uint32_t>(bytes.size() - header);
    const char* ptr = bytes.data() + header;
    if (type == msgpack::type::STR) {
      o.via.str = {size, ptr};
    } else if (type == msgpack::type::BIN) {
      o.via.bin = {size, ptr};
    } else {
      o.via.ext = {size - 1, ptr};  // ptr is the type byte, then the data
    }
  };
  if (b <= 0x7f) {
    o.type = msgpack::type::POSITIVE_INTEGER;
    o.via.u64 = b;
  } else if (b >= 0xe0) {
    set_signed(o, static_cast<std::int8_t>(b));
  } else if (b <= 0x9f || b == 0xdc || b == 0xdd || b == 0xde || b == 0xdf) {
    return false;
  } else if (b <= 0xbf) {
    raw(msgpack::type::STR, 1);
  } else if (b == 0xc0) {
    o.type = msgpack::type::NIL;
  } else if (b == 0xc2 || b == 0xc3) {
    o.type = msgpack::type::BOOLEAN;
    o.via.boolean = b == 0xc3;
  } else if (b <= 0xc6) {
    raw(msgpack::type::BIN, 1 + (std::size_t{1} << (b - 0xc4)));
  } else if (b <= 0xc9) {
    raw(msgpack::type::EXT, 1 + (std::size_t{1} << (b - 0xc7)));
  } else if (b == 0xca) {
    o.type = msgpack::type::FLOAT32;
    o.via.f64 = std::bit_cast<float>(static_cast<std::uint32_t>(read_be(p + 1, 4)));
  } else if (b == 0xcb) {
    o.type = msgpack::type::FLOAT64;
    o.via.f64 = std::bit_cast<double>(read_be(p + 1, 8));
  } else if (b <= 0xcf) {
    o.type = msgpack::type::POSITIVE_INTEGER;
    o.via.u64 = read_be(p + 1, std::size_t{1} << (b - 0xcc));
  } else if (b <= 0xd3) {
    const std::size_t width = std::size_t{1} << (b - 0xd0);
    const std::uint64_t v = read_be(p + 1, width);
    const unsigned shift = static_cast<unsigned>(64 - 8 * width);
    set_signed(o, static_cast<std::int64_t>(v << shift) >> shift);  // sign-extend
  } else if (b <= 0xd8) {
    raw(msgpack::type::EXT, 1);
  } else {
    raw(msgpack::type::STR, 1 + (std::size_t{1} << (b - 0xd9)));
  }
  return true;
}

}  // namespace weft::codec::detail
