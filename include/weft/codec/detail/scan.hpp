// weft/codec/detail/scan.hpp — the structural check that runs before
// msgpack-cxx sees untrusted bytes.
//
// msgpack-cxx allocates room for a container's declared element count
// before it reads the elements. scan() walks the bytes once, without
// allocating, and proves that every declared element and every declared
// string, bin and ext payload is actually present, so the parse that
// follows allocates at most a small multiple of the input's length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weft::codec::detail {

enum class ScanError {
  none,
  truncated,  // the value needs more bytes than there are
  reserved,   // the reserved header byte 0xc1
  oversized,  // a container declares more elements than bytes remain
};

struct ScanResult {
  ScanError error = ScanError::none;
  std::size_t end = 0;       // one past the value (valid when error == none)
  std::uint64_t declared = 0;  // the offending count (error == oversized)
};

// Big-endian unsigned integer of `width` bytes at `p`.
inline std::uint64_t read_be(const unsigned char* p, std::size_t width) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8) | p[i];
  return v;
}

// Checks the first MessagePack value in `bytes`. Never allocates.
inline ScanResult scan(std::string_view bytes) {
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  const std::size_t len = bytes.size();
  std::size_t pos = 0;
  std::uint64_t pending = 1;  // values still to read; each needs a byte
  while (pending > 0) {
    if (pos >= len) return {ScanError::truncated};
    const unsigned char b = data[pos++];
    --pending;
    std::size_t width = 0;        // bytes of length field or fixed payload
    std::uint64_t payload = 0;    // variable payload after the length field
    std::uint64_t elements = 0;   // values this header adds
    bool sized = false;           // the length field gives `payload`
    bool counted = false;         // the length field gives `elements`
    std::uint64_t per_entry = 1;  // values per counted entry (2 for maps)
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
      // fixint, nil, bool: the header is the value
    } else if (b <= 0x8f) {
      per_entry = 2;
      elements = 2u * (b & 0x0fu);
    } else if (b <= 0x9f) {
      elements = b & 0x0fu;
    } else if (b <= 0xbf) {
      payload = b & 0x1fu;
    } else if (b == 0xc1) {
      return {ScanError::reserved};
    } else if (b <= 0xc6) {  // bin 8/16/32
      width = std::size_t{1} << (b - 0xc4);
      sized = true;
    } else if (b <= 0xc9) {  // ext 8/16/32: length, type byte, data
      width = std::size_t{1} << (b - 0xc7);
      sized = true;
      payload = 1;
    } else if (b <= 0xcb) {  // float32, float64
      width = b == 0xca ? 4 : 8;
    } else if (b <= 0xd3) {  // uint8..64, int8..64
      width = std::size_t{1} << ((b - 0xcc) & 3);
    } else if (b <= 0xd8) {  // fixext 1/2/4/8/16: type byte, data
      width = 1 + (std::size_t{1} << (b - 0xd4));
    } else if (b <= 0xdb) {  // str 8/16/32
      width = std::size_t{1} << (b - 0xd9);
      sized = true;
    } else {  // array 16/32, map 16/32
      width = (b & 1) ? 4 : 2;
      counted = true;
      per_entry = b >= 0xde ? 2 : 1;
    }
    if (len - pos < width) return {ScanError::truncated};
    if (sized) payload += read_be(data + pos, width);
    if (counted) elements = per_entry * read_be(data + pos, width);
    pos += width;
    if (len - pos < payload) return {ScanError::truncated};
    pos += payload;
    pending += elements;
    if (pending > len - pos) {
      return {elements > len - pos ? ScanError::oversized : ScanError::truncated, 0,
              elements / per_entry};
    }
  }
  return {ScanError::none, pos};
}

}  // namespace weft::codec::detail
