// weft/codec/struct.hpp — one line makes a struct encodable.
//
//   struct Order {
//     std::string item;
//     int quantity = 0;
//     WEFT_CODEC(item, quantity)
//   };
//
// WEFT_CODEC(fields...) inside a class encodes it as a MessagePack array of
// the listed members, in order (the fields may be private; the macro may
// sit in any access section). Decoding requires exactly that many
// elements, each decoding as its member's type; the class needs a default
// constructor. A class derived from an opted-in class encodes only the
// base's fields unless it has a WEFT_CODEC of its own.
//
// For a type you cannot edit, WEFT_CODEC_EXTERNAL(Type, fields...) at
// namespace scope in Type's own namespace (so that argument-dependent
// lookup finds it) does the same for its public members:
//
//   namespace geo { WEFT_CODEC_EXTERNAL(Point, x, y) }
//
// Included by weft/codec.hpp.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>

#include "weft/codec/detail/msgpack.hpp"

namespace weft::codec::detail {

// The macros' gateway to the member function WEFT_CODEC defines.
struct FieldAccess {
  template <typename T>
  static auto fields(T& value) -> decltype(value.weft_codec_fields_()) {
    return value.weft_codec_fields_();
  }
};

// Only argument-dependent lookup may find WEFT_CODEC_EXTERNAL's functions.
void weft_codec_fields() = delete;

template <typename T>
concept HasMemberFields = requires(T& value) { FieldAccess::fields(value); };

template <typename T>
concept HasExternalFields = requires(T& value) { weft_codec_fields(value); };

template <typename T>
concept HasFields = HasMemberFields<T> || HasExternalFields<T>;

// A tuple of references to the value's fields (const if the value is).
template <typename T>
auto fields_of(T& value) {
  if constexpr (HasMemberFields<std::remove_const_t<T>>) {
    return FieldAccess::fields(value);
  } else {
    return weft_codec_fields(value);
  }
}

}  // namespace weft::codec::detail

#define WEFT_CODEC(...)                                               \
  friend struct ::weft::codec::detail::FieldAccess;                   \
  auto weft_codec_fields_() { return ::std::tie(__VA_ARGS__); }       \
  auto weft_codec_fields_() const { return ::std::tie(__VA_ARGS__); }

#define WEFT_CODEC_EXTERNAL(Type, ...)                                                   \
  [[maybe_unused]] inline auto weft_codec_fields(Type& weft_value) {                    \
    return ::std::tie(WEFT_CODEC_DETAIL_MEMBERS(__VA_ARGS__));                           \
  }                                                                                      \
  [[maybe_unused]] inline auto weft_codec_fields(const Type& weft_value) {              \
    return ::std::tie(WEFT_CODEC_DETAIL_MEMBERS(__VA_ARGS__));                           \
  }

// WEFT_CODEC_DETAIL_MEMBERS(a, b, c) is `weft_value.a, weft_value.b,
// weft_value.c` (up to 256 fields).
#define WEFT_CODEC_DETAIL_PARENS ()
#define WEFT_CODEC_DETAIL_EXPAND(...) \
  WEFT_CODEC_DETAIL_EXPAND4(WEFT_CODEC_DETAIL_EXPAND4(WEFT_CODEC_DETAIL_EXPAND4( \
      WEFT_CODEC_DETAIL_EXPAND4(__VA_ARGS__))))
#define WEFT_CODEC_DETAIL_EXPAND4(...) \
  WEFT_CODEC_DETAIL_EXPAND3(WEFT_CODEC_DETAIL_EXPAND3(WEFT_CODEC_DETAIL_EXPAND3( \
      WEFT_CODEC_DETAIL_EXPAND3(__VA_ARGS__))))
#define WEFT_CODEC_DETAIL_EXPAND3(...) \
  WEFT_CODEC_DETAIL_EXPAND2(WEFT_CODEC_DETAIL_EXPAND2(WEFT_CODEC_DETAIL_EXPAND2( \
      WEFT_CODEC_DETAIL_EXPAND2(__VA_ARGS__))))
#define WEFT_CODEC_DETAIL_EXPAND2(...) __VA_ARGS__
#define WEFT_CODEC_DETAIL_MEMBERS(...) \
  __VA_OPT__(WEFT_CODEC_DETAIL_EXPAND(WEFT_CODEC_DETAIL_MEMBER(__VA_ARGS__)))
#define WEFT_CODEC_DETAIL_MEMBER(field, ...) \
  weft_value.field __VA_OPT__(, WEFT_CODEC_DETAIL_AGAIN WEFT_CODEC_DETAIL_PARENS(__VA_ARGS__))
#define WEFT_CODEC_DETAIL_AGAIN() WEFT_CODEC_DETAIL_MEMBER

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <typename T>
struct pack<T, std::enable_if_t<weft::codec::detail::HasFields<T>>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const T& v) const {
    const auto fields = weft::codec::detail::fields_of(v);
    o.pack_array(static_cast<uint32_t>(std::tuple_size_v<decltype(fields)>));
    std::apply([&o](const auto&... field) { (o.pack(field), ...); }, fields);
    return o;
  }
};

template <typename T>
struct convert<T, std::enable_if_t<weft::codec::detail::HasFields<T>>> {
  const msgpack::object& operator()(const msgpack::object& o, T& v) const {
    auto fields = weft::codec::detail::fields_of(v);
    constexpr std::size_t count = std::tuple_size_v<decltype(fields)>;
    if (o.type != msgpack::type::ARRAY || o.via.array.size != count) {
      throw msgpack::type_error();
    }
    const msgpack::object* element = o.via.array.ptr;
    std::apply(
        [&element](auto&... field) {
          ((field = weft::codec::detail::value_of<std::remove_reference_t<decltype(field)>>(*element++)), ...);
        },
        fields);
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
