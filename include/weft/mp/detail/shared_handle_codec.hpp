// weft/mp/detail/shared_handle_codec.hpp — the one msgpack adaptor (for
// weft::codec) of the multiprocessing handles that cross to a child being
// started as a token: such a handle encodes as share_with_child() and
// decodes through its static from_parent(token). A type opts in by
// specialising SharedByToken next to its definition.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "weft/codec.hpp"

namespace weft::mp::detail {

// Whether T crosses a process boundary as the token of share_with_child();
// false unless specialised for T.
template <class T>
struct SharedByToken : std::false_type {};

// The token a handle of type T encodes as.
template <class T>
using TokenOf = decltype(std::declval<const T&>().share_with_child());

// A handle that opted in through SharedByToken and has share_with_child()
// and a static from_parent(token) that gives back a T.
template <class T>
concept SharedHandle = SharedByToken<T>::value && requires(const TokenOf<T>& token) {
  { T::from_parent(token) } -> std::same_as<T>;
};

}  // namespace weft::mp::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <weft::mp::detail::SharedHandle T>
struct pack<T> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const T& v) const {
    return o.pack(v.share_with_child());
  }
};

template <weft::mp::detail::SharedHandle T>
struct as<T> {
  T operator()(const msgpack::object& o) const {
    return T::from_parent(o.as<weft::mp::detail::TokenOf<T>>());
  }
};

template <weft::mp::detail::SharedHandle T>
struct convert<T> {
  const msgpack::object& operator()(const msgpack::object& o, T& v) const {
    v = T::from_parent(o.as<weft::mp::detail::TokenOf<T>>());
    return o;
  }
};

}  // namespace adaptor
}
}  // namespace msgpack
