// weft/codec/detail/value_of.hpp — building a decoded value without leaving
// any part of it indeterminate.
//
// msgpack-cxx's object::as<T>() default-initialises a T and lets convert()
// fill it. convert() fills a std::array only as far as a shorter array
// goes, so the rest of it (and of any aggregate holding it) would be
// whatever the memory held. value_of<T>() value-initialises the T first.
#pragma once

#include <msgpack.hpp>

namespace weft::codec::detail {

template <typename T>
T value_of(const msgpack::object& o) {
  if constexpr (msgpack::has_as<T>::value) {
    return o.as<T>();
  } else {
    T value{};
    msgpack::adaptor::convert<T>()(o, value);
    return value;
  }
}

}  // namespace weft::codec::detail
