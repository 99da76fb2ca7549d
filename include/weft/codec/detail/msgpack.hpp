// weft/codec/detail/msgpack.hpp — msgpack-cxx, with the adaptors for
// std::array and std::tuple replaced by ones that never index past the
// data they decode, and the one for float by one that checks its range.
//
// msgpack-cxx 4.x trusts a size it should check in three places:
//   - std::array<char, N> and std::array<unsigned char, N> decoded from a
//     str copy N bytes even when the str is shorter, reading past it (past
//     the input, since weft's strings refer into it);
//   - std::array<T, N> and std::tuple<T...> whose elements decode through
//     as<> (std::variant, function pointers, types without a default
//     constructor) index the array by the target's length, not by the
//     array's: a shorter array is read before or past its start, and a
//     tuple from a longer array takes its last elements, not its first.
// This header defines those three headers' include guards first and
// supplies its own versions, with msgpack-cxx's wire format and the rules
// of its convert<> paths: a shorter array leaves the missing elements
// value-initialised (a missing element that cannot be — no default
// constructor, or a pointer, which would be null — is a type_error), a
// tuple ignores extra elements, and a longer std::array is a type_error.
// A std::array's convert<> value-initialises the elements it does not
// decode itself, because msgpack-cxx hands it default-initialised arrays
// (set elements, map keys, the members of pairs and user structs).
//
// msgpack-cxx's float header also converts a finite double beyond float's
// range to an infinity. This header replaces that header the same way: such
// a double is a type_error, as an integer beyond its target's range is
// (Python's struct.pack('f', 1e300) raises OverflowError), while one that
// rounds to float's largest value, an infinity and a NaN convert as before.
// The header's other adaptors (float's pack<> and object<>, and all of
// double's) are msgpack-cxx's, copied unchanged.
//
// Every weft header includes msgpack-cxx through this one. A translation
// unit that includes <msgpack.hpp> before any weft header would get the
// unchecked versions; that is refused at compile time.
#pragma once

#if defined(MSGPACK_V1_TYPE_CPP11_ARRAY_HPP) || defined(MSGPACK_V1_TYPE_CPP11_TUPLE_HPP) || \
    defined(MSGPACK_V1_TYPE_CPP11_ARRAY_CHAR_HPP) || defined(MSGPACK_V1_TYPE_CPP11_ARRAY_UNSIGNED_CHAR_HPP) || \
    defined(MSGPACK_V1_TYPE_FLOAT_HPP)
#error "include <weft/codec.hpp> (or any weft header) before <msgpack.hpp>: weft replaces msgpack-cxx's std::array and std::tuple decoders, which read past short input, and its float decoder, which does not check the range"
#endif
#define MSGPACK_V1_TYPE_CPP11_ARRAY_HPP
#define MSGPACK_V1_TYPE_CPP11_TUPLE_HPP
#define MSGPACK_V1_TYPE_CPP11_ARRAY_CHAR_HPP
#define MSGPACK_V1_TYPE_CPP11_ARRAY_UNSIGNED_CHAR_HPP
#define MSGPACK_V1_TYPE_FLOAT_HPP

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#include <msgpack/adaptor/adaptor_base.hpp>
#include <msgpack/adaptor/check_container_size.hpp>
#include <msgpack/meta.hpp>
#include <msgpack/object.hpp>
#include <msgpack/versioning.hpp>

namespace weft::codec::detail {

// A T decoded from `o`, value-initialised before convert<> fills it, so
// that no part of it is left indeterminate even if a user type's convert<>
// fills it only in part (object::as<T>() would default-initialise the T).
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

// An element that a shorter array lacks: a value-initialised T, or a
// type_error for a T that cannot be one (no default constructor, or a
// pointer, which would be null).
template <typename T>
T missing_element() {
  if constexpr (std::is_default_constructible_v<T> && !std::is_pointer_v<T>) {
    return T{};
  } else {
    throw msgpack::type_error();
  }
}

// Element `i` of the array `o`, or a missing_element() past its end.
template <typename T>
T element_of(const msgpack::object& o, std::size_t i) {
  if (i < o.via.array.size) return value_of<T>(o.via.array.ptr[i]);
  return missing_element<T>();
}

template <typename T, std::size_t... I>
std::array<T, sizeof...(I)> array_of(const msgpack::object& o, std::index_sequence<I...>) {
  return {{element_of<T>(o, I)...}};
}

template <typename... Ts, std::size_t... I>
std::tuple<Ts...> tuple_of(const msgpack::object& o, std::index_sequence<I...>) {
  return std::tuple<Ts...>{element_of<Ts>(o, I)...};
}

// The elements of a tuple or std::array as an array of msgpack objects in
// `o.zone`.
template <typename... Elements>
void array_in_zone(msgpack::object::with_zone& o, const Elements&... elements) {
  o.type = msgpack::type::ARRAY;
  o.via.array.size = static_cast<std::uint32_t>(sizeof...(Elements));
  if constexpr (sizeof...(Elements) == 0) {
    o.via.array.ptr = nullptr;
  } else {
    auto* p = static_cast<msgpack::object*>(o.zone.allocate_align(
        sizeof(msgpack::object) * sizeof...(Elements), MSGPACK_ZONE_ALIGNOF(msgpack::object)));
    o.via.array.ptr = p;
    ((*p++ = msgpack::object(elements, o.zone)), ...);
  }
}

// Bytes of a bin or a str, at most N of them, into a byte array; the rest
// is zeroed.
template <typename Byte, std::size_t N>
void bytes_into(const msgpack::object& o, std::array<Byte, N>& v) {
  const char* data = nullptr;
  std::size_t size = 0;
  if (o.type == msgpack::type::BIN) {
    data = o.via.bin.ptr;
    size = o.via.bin.size;
  } else if (o.type == msgpack::type::STR) {
    data = o.via.str.ptr;
    size = o.via.str.size;
  } else {
    throw msgpack::type_error();
  }
  if (size > N) throw msgpack::type_error();
  if (size > 0) std::memcpy(v.data(), data, size);
  if (size < N) std::memset(v.data() + size, 0, N - size);
}

template <typename Stream, typename Byte, std::size_t N>
msgpack::packer<Stream>& pack_bytes(msgpack::packer<Stream>& o, const std::array<Byte, N>& v) {
  const std::uint32_t size = msgpack::checked_get_container_size(N);
  o.pack_bin(size);
  o.pack_bin_body(reinterpret_cast<const char*>(v.data()), size);
  return o;
}

template <typename Byte, std::size_t N>
void bytes_in_zone(msgpack::object::with_zone& o, const std::array<Byte, N>& v) {
  const std::uint32_t size = msgpack::checked_get_container_size(N);
  char* p = static_cast<char*>(o.zone.allocate_align(size, MSGPACK_ZONE_ALIGNOF(char)));
  if (size > 0) std::memcpy(p, v.data(), size);
  o.type = msgpack::type::BIN;
  o.via.bin.ptr = p;
  o.via.bin.size = size;
}

// A double as a float, rounded; a type_error for a finite one that would
// round to infinity.
inline float float_of(double d) {
  // The least double that rounds to infinity: float's largest value plus
  // half a step between floats of its size.
  constexpr double overflows = 0x1.ffffffp127;
  if (std::isfinite(d) && std::fabs(d) >= overflows) throw msgpack::type_error();
  return static_cast<float>(d);
}

}  // namespace weft::codec::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(v1) {
namespace adaptor {

// ------------------------------------------------------------ std::array

template <typename T, std::size_t N>
struct as<std::array<T, N>, std::enable_if_t<msgpack::has_as<T>::value>> {
  std::array<T, N> operator()(const msgpack::object& o) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size > N) throw msgpack::type_error();
    return weft::codec::detail::array_of<T>(o, std::make_index_sequence<N>{});
  }
};

template <typename T, std::size_t N>
struct convert<std::array<T, N>> {
  const msgpack::object& operator()(const msgpack::object& o, std::array<T, N>& v) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size > N) throw msgpack::type_error();
    for (std::size_t i = 0; i < o.via.array.size; ++i) o.via.array.ptr[i].convert(v[i]);
    for (std::size_t i = o.via.array.size; i < N; ++i) v[i] = weft::codec::detail::missing_element<T>();
    return o;
  }
};

template <typename T, std::size_t N>
struct pack<std::array<T, N>> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const std::array<T, N>& v) const {
    o.pack_array(msgpack::checked_get_container_size(N));
    for (const T& e : v) o.pack(e);
    return o;
  }
};

template <typename T, std::size_t N>
struct object_with_zone<std::array<T, N>> {
  void operator()(msgpack::object::with_zone& o, const std::array<T, N>& v) const {
    std::apply([&o](const auto&... e) { weft::codec::detail::array_in_zone(o, e...); }, v);
  }
};

// ------------------------------------- std::array of char / unsigned char

template <std::size_t N>
struct convert<std::array<char, N>> {
  const msgpack::object& operator()(const msgpack::object& o, std::array<char, N>& v) const {
    weft::codec::detail::bytes_into(o, v);
    return o;
  }
};

template <std::size_t N>
struct convert<std::array<unsigned char, N>> {
  const msgpack::object& operator()(const msgpack::object& o, std::array<unsigned char, N>& v) const {
    weft::codec::detail::bytes_into(o, v);
    return o;
  }
};

template <std::size_t N>
struct pack<std::array<char, N>> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const std::array<char, N>& v) const {
    return weft::codec::detail::pack_bytes(o, v);
  }
};

template <std::size_t N>
struct pack<std::array<unsigned char, N>> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o,
                                      const std::array<unsigned char, N>& v) const {
    return weft::codec::detail::pack_bytes(o, v);
  }
};

template <typename Byte, std::size_t N>
  requires(std::is_same_v<Byte, char> || std::is_same_v<Byte, unsigned char>)
struct object<std::array<Byte, N>> {
  void operator()(msgpack::object& o, const std::array<Byte, N>& v) const {
    o.type = msgpack::type::BIN;
    o.via.bin.ptr = reinterpret_cast<const char*>(v.data());
    o.via.bin.size = msgpack::checked_get_container_size(N);
  }
};

template <std::size_t N>
struct object_with_zone<std::array<char, N>> {
  void operator()(msgpack::object::with_zone& o, const std::array<char, N>& v) const {
    weft::codec::detail::bytes_in_zone(o, v);
  }
};

template <std::size_t N>
struct object_with_zone<std::array<unsigned char, N>> {
  void operator()(msgpack::object::with_zone& o, const std::array<unsigned char, N>& v) const {
    weft::codec::detail::bytes_in_zone(o, v);
  }
};

// ------------------------------------------------------------ std::tuple

template <typename... Ts>
struct as<std::tuple<Ts...>, std::enable_if_t<msgpack::any_of<msgpack::has_as, Ts...>::value>> {
  std::tuple<Ts...> operator()(const msgpack::object& o) const {
    if (o.type != msgpack::type::ARRAY) throw msgpack::type_error();
    return weft::codec::detail::tuple_of<Ts...>(o, std::index_sequence_for<Ts...>{});
  }
};

template <typename... Ts>
struct convert<std::tuple<Ts...>> {
  const msgpack::object& operator()(const msgpack::object& o, std::tuple<Ts...>& v) const {
    if (o.type != msgpack::type::ARRAY) throw msgpack::type_error();
    std::size_t i = 0;
    std::apply([&](auto&... e) { ((i < o.via.array.size ? (void)o.via.array.ptr[i].convert(e) : (void)0, ++i), ...); }, v);
    return o;
  }
};

template <typename... Ts>
struct pack<std::tuple<Ts...>> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const std::tuple<Ts...>& v) const {
    o.pack_array(msgpack::checked_get_container_size(sizeof...(Ts)));
    std::apply([&o](const auto&... e) { (o.pack(e), ...); }, v);
    return o;
  }
};

template <typename... Ts>
struct object_with_zone<std::tuple<Ts...>> {
  void operator()(msgpack::object::with_zone& o, const std::tuple<Ts...>& v) const {
    std::apply([&o](const auto&... e) { weft::codec::detail::array_in_zone(o, e...); }, v);
  }
};

// ----------------------------------------------------------- float, double

template <>
struct convert<float> {
  const msgpack::object& operator()(const msgpack::object& o, float& v) const {
    if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) {
      v = weft::codec::detail::float_of(o.via.f64);
    } else if (o.type == msgpack::type::POSITIVE_INTEGER) {
      v = static_cast<float>(o.via.u64);
    } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
      v = static_cast<float>(o.via.i64);
    } else {
      throw msgpack::type_error();
    }
    return o;
  }
};

template <>
struct pack<float> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const float& v) const {
    o.pack_float(v);
    return o;
  }
};

template <>
struct convert<double> {
  const msgpack::object& operator()(const msgpack::object& o, double& v) const {
    if (o.type == msgpack::type::FLOAT32 || o.type == msgpack::type::FLOAT64) {
      v = o.via.f64;
    } else if (o.type == msgpack::type::POSITIVE_INTEGER) {
      v = static_cast<double>(o.via.u64);
    } else if (o.type == msgpack::type::NEGATIVE_INTEGER) {
      v = static_cast<double>(o.via.i64);
    } else {
      throw msgpack::type_error();
    }
    return o;
  }
};

template <>
struct pack<double> {
  template <typename Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& o, const double& v) const {
    o.pack_double(v);
    return o;
  }
};

template <>
struct object<float> {
  void operator()(msgpack::object& o, float v) const {
    o.type = msgpack::type::FLOAT32;
    o.via.f64 = static_cast<double>(v);
  }
};

template <>
struct object<double> {
  void operator()(msgpack::object& o, double v) const {
    o.type = msgpack::type::FLOAT64;
    o.via.f64 = v;
  }
};

template <>
struct object_with_zone<float> {
  void operator()(msgpack::object::with_zone& o, float v) const {
    static_cast<msgpack::object&>(o) << v;
  }
};

template <>
struct object_with_zone<double> {
  void operator()(msgpack::object::with_zone& o, double v) const {
    static_cast<msgpack::object&>(o) << v;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(v1)
}  // namespace msgpack

#include <msgpack.hpp>
