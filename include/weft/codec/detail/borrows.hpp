// weft/codec/detail/borrows.hpp — which types decode() refuses because
// their value would outlive the bytes it points into.
//
// Included by weft/codec.hpp; not meant to be included on its own.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

#include "weft/codec/detail/msgpack.hpp"

#include "weft/codec/struct.hpp"

namespace weft::codec::detail {

// Whether a decoded T would point into the input or the scratch zone,
// which do not outlive decode(): a string_view, a byte span or a
// msgpack::object, alone or anywhere inside a container, optional, pair,
// tuple, variant or WEFT_CODEC struct.
template <typename T>
inline constexpr bool is_view =
    std::is_same_v<T, std::string_view> || std::is_same_v<T, msgpack::object> ||
    std::is_same_v<T, std::span<const std::byte>>;

// `Seen` lists the structs being looked into, so that a recursive one (a
// tree whose nodes hold a vector of nodes) ends the search.
template <typename T, typename... Seen>
struct Borrows : std::bool_constant<is_view<T>> {};

template <typename T, typename... Seen>
inline constexpr bool borrows = Borrows<std::remove_cv_t<T>, Seen...>::value;

template <typename T, typename... Seen>
  requires requires { typename T::value_type; } && (!is_view<T>)
struct Borrows<T, Seen...> : std::bool_constant<borrows<typename T::value_type, Seen...>> {};

template <typename T, typename... Seen>
struct Borrows<std::optional<T>, Seen...> : std::bool_constant<borrows<T, Seen...>> {};

template <typename A, typename B, typename... Seen>
struct Borrows<std::pair<A, B>, Seen...> : std::bool_constant<borrows<A, Seen...> || borrows<B, Seen...>> {};

template <typename... Ts, typename... Seen>
struct Borrows<std::tuple<Ts...>, Seen...> : std::bool_constant<(borrows<Ts, Seen...> || ...)> {};

template <typename... Ts, typename... Seen>
struct Borrows<std::variant<Ts...>, Seen...> : std::bool_constant<(borrows<Ts, Seen...> || ...)> {};

template <typename T, typename... Seen>
  requires HasFields<T>
struct Borrows<T, Seen...> {
  template <typename Fields>
  struct Any;
  template <typename... Fs>
  struct Any<std::tuple<Fs...>>
      : std::bool_constant<(borrows<std::remove_reference_t<Fs>, T, Seen...> || ...)> {};
  static constexpr bool value = [] {
    if constexpr ((std::is_same_v<T, Seen> || ...)) {
      return false;
    } else {
      return Any<decltype(fields_of(std::declval<T&>()))>::value;
    }
  }();
};

template <typename T>
inline constexpr bool owns_its_data = !borrows<T>;

}  // namespace weft::codec::detail
