// The messages of codec::DecodeError.
#include <cxxabi.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "weft/codec.hpp"

namespace weft::codec::detail {
namespace {

std::string type_name(const std::type_info& type) {
  int status = 0;
  std::unique_ptr<char, decltype(&std::free)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  return status == 0 && name ? std::string(name.get()) : std::string(type.name());
}

std::string bytes(std::size_t n) { return std::to_string(n) + (n == 1 ? " byte" : " bytes"); }

}  // namespace

void throw_type_mismatch(const std::type_info& type) {
  throw DecodeError("codec: the bytes do not hold a " + type_name(type) +
                    " (wrong type, wrong element count, or a number out of range)");
}

void throw_unpack_error(const std::exception& error, std::size_t size) {
  if (dynamic_cast<const msgpack::depth_size_overflow*>(&error) != nullptr) {
    throw DecodeError("codec: arrays and maps nested deeper than " +
                      std::to_string(max_depth) + " levels");
  }
  if (dynamic_cast<const std::bad_alloc*>(&error) != nullptr) {
    throw DecodeError("codec: declared sizes exceed what " + bytes(size) + " can hold");
  }
  throw DecodeError("codec: malformed MessagePack in " + bytes(size) + ": " + error.what());
}

void throw_out_of_memory(const std::type_info& type, std::size_t size) {
  throw DecodeError("codec: out of memory decoding " + bytes(size) + " as a " + type_name(type));
}

void throw_scan_error(const ScanResult& result, std::size_t size) {
  switch (result.error) {
    case ScanError::truncated:
      throw DecodeError("codec: truncated input: " + bytes(size) +
                        " end in the middle of a value");
    case ScanError::reserved:
      throw DecodeError("codec: malformed MessagePack: reserved byte 0xc1");
    case ScanError::oversized:
      throw DecodeError("codec: a container declares " + std::to_string(result.declared) +
                        " elements but the input has only " + bytes(size));
    case ScanError::none:
      break;
  }
  throw DecodeError("codec: " + bytes(size - result.end) + " after the end of the value");
}

}  // namespace weft::codec::detail
