// weft/codec/adaptors.hpp — msgpack-cxx adaptors for the standard types it
// lacks: enums (as their underlying integer), std::chrono::duration (as its
// count), std::monostate (nil) and std::variant (a two-element array
// [index, value], index being the alternative's position).
//
// Included by weft/codec.hpp; not meant to be included on its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <variant>

#include "weft/codec/detail/msgpack.hpp"

namespace weft::codec::detail {

// An enum that msgpack-cxx does not already know (std::byte is bin data).
template <typename T>
inline constexpr bool is_plain_enum = std::is_enum_v<T> && !std::is_same_v<T, std::byte>;

template <typename Variant, std::size_t... I>
Variant variant_from(const msgpack::object& value, std::size_t index,
                     std::index_sequence<I...>) {
  using Make = Variant (*)(const msgpack::object&);
  static constexpr Make make[] = {[](const msgpack::object& o) {
    return Variant(std::in_place_index<I>, value_of<std::variant_alternative_t<I, Variant>>(o));
  }...};
  return make[index](value);
}

}  // namespace weft::codec::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <typename E>
struct pack<E, std::enable_if_t<weft::codec::detail::is_plain_enum<E>>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const E& v) const {
    return o.pack(static_cast<std::underlying_type_t<E>>(v));
  }
};

template <typename E>
struct convert<E, std::enable_if_t<weft::codec::detail::is_plain_enum<E>>> {
  const msgpack::object& operator()(const msgpack::object& o, E& v) const {
    v = static_cast<E>(o.as<std::underlying_type_t<E>>());
    return o;
  }
};

template <typename Rep, typename Period>
struct pack<std::chrono::duration<Rep, Period>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o,
                             const std::chrono::duration<Rep, Period>& v) const {
    return o.pack(v.count());
  }
};

template <typename Rep, typename Period>
struct convert<std::chrono::duration<Rep, Period>> {
  const msgpack::object& operator()(const msgpack::object& o,
                                    std::chrono::duration<Rep, Period>& v) const {
    v = std::chrono::duration<Rep, Period>(o.as<Rep>());
    return o;
  }
};

template <>
struct pack<std::monostate> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, std::monostate) const {
    return o.pack_nil();
  }
};

template <>
struct convert<std::monostate> {
  const msgpack::object& operator()(const msgpack::object& o, std::monostate&) const {
    if (o.type != msgpack::type::NIL) throw msgpack::type_error();
    return o;
  }
};

template <typename... Ts>
struct pack<std::variant<Ts...>> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const std::variant<Ts...>& v) const {
    if (v.valueless_by_exception()) {
      throw weft::codec::EncodeError("codec: cannot encode a valueless std::variant");
    }
    o.pack_array(2);
    o.pack(static_cast<std::uint64_t>(v.index()));
    std::visit([&o](const auto& alternative) { o.pack(alternative); }, v);
    return o;
  }
};

// as<> rather than convert<> so that alternatives need no default
// constructor and neither does the variant.
template <typename... Ts>
struct as<std::variant<Ts...>> {
  std::variant<Ts...> operator()(const msgpack::object& o) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 2) throw msgpack::type_error();
    const auto index = o.via.array.ptr[0].as<std::uint64_t>();
    if (index >= sizeof...(Ts)) throw msgpack::type_error();
    return weft::codec::detail::variant_from<std::variant<Ts...>>(
        o.via.array.ptr[1], static_cast<std::size_t>(index),
        std::index_sequence_for<Ts...>{});
  }
};

template <typename... Ts>
struct convert<std::variant<Ts...>> {
  const msgpack::object& operator()(const msgpack::object& o, std::variant<Ts...>& v) const {
    v = as<std::variant<Ts...>>()(o);
    return o;
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
