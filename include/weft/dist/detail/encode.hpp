// weft/dist/detail/encode.hpp — encoding a value bound for Redis, and so
// perhaps for another machine: a descriptor inside it (a Connection, a
// net::Socket) is refused with codec::EncodeError, since no other machine
// could take one lent by this process (weft/mp/detail/dup_fd.hpp).
#pragma once

#include <string>

#include "weft/codec.hpp"
#include "weft/mp/detail/dup_fd.hpp"

namespace weft::dist::detail {

inline constexpr const char* kNoOtherMachine = "no other machine could take it";

template <class T>
std::string encode_off_machine(const T& value) {
  const mp::detail::DescriptorsRefused scope(kNoOtherMachine);
  return codec::encode(value);
}

}  // namespace weft::dist::detail
