// weft/mp/manager/managed.hpp — the server side of a manager: what an
// object held by a manager's server process looks like.
//
// A manager's server holds objects (Managed) and runs the methods its
// clients' proxies call. Arguments and results travel as MessagePack
// (weft::codec): a method receives its arguments as the encoding of a
// tuple and returns the encoding of its result. Because the built-in
// objects keep values as their encodings, one server serves clients of any
// value type — even clients built from other sources.
//
// Each client connection is served by its own server thread, so a method
// may block (Lock.acquire, Queue.get, Event.wait); a blocking method waits
// in slices and gives up when caller.connected() turns false, so a client
// that dies does not leave a server thread blocked for ever.
//
// Thread-safety: call() runs concurrently from the threads of different
// connections; each Managed object synchronises itself (one mutex per
// object makes every method atomic, as Python's server does with its
// objects' own locks).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>

#include "weft/codec.hpp"
#include "weft/errors.hpp"

namespace weft::mp::manager {

// Who is calling a method.
class Caller {
 public:
  virtual ~Caller() = default;
  // Identifies the client connection (unique within the server's life).
  virtual std::uint64_t connection() const noexcept = 0;
  // False once the client has hung up or died.
  virtual bool connected() const noexcept = 0;
};

class Managed {
 public:
  virtual ~Managed() = default;
  // Runs `method` with the encoded argument tuple `args` and returns the
  // encoded result (the encoding of std::monostate — nil — for none).
  // Throws AttributeError for a method the object does not have,
  // codec::DecodeError for arguments of the wrong shape; whatever it throws
  // goes back to the client's proxy as that exception.
  virtual std::string call(std::string_view method, std::string_view args, Caller& caller) = 0;
  // The client connection `connection` ended: release whatever it held
  // (a Lock it had acquired is released — the next waiter gets it).
  virtual void disconnected(std::uint64_t connection) { (void)connection; }
};

namespace detail {

// The parameter tuple and result of a member function pointer, const,
// noexcept or neither.
// A member function whose first parameter is a Caller& receives the caller
// (takes_caller); Params are the parameters that travel.
template <class Fn>
struct MemberFunction;
template <class R, class C, class... P>
struct MemberFunction<R (C::*)(P...)> {
  using Result = R;
  using Params = std::tuple<std::decay_t<P>...>;
  static constexpr bool takes_caller = false;
};
template <class R, class C, class... P>
struct MemberFunction<R (C::*)(Caller&, P...)> {
  using Result = R;
  using Params = std::tuple<std::decay_t<P>...>;
  static constexpr bool takes_caller = true;
};
template <class R, class C, class... P>
struct MemberFunction<R (C::*)(P...) const> : MemberFunction<R (C::*)(P...)> {};
template <class R, class C, class... P>
struct MemberFunction<R (C::*)(P...) noexcept> : MemberFunction<R (C::*)(P...)> {};
template <class R, class C, class... P>
struct MemberFunction<R (C::*)(P...) const noexcept> : MemberFunction<R (C::*)(P...)> {};

// The length of the MessagePack array `bytes` starts with; nullopt if it
// does not start with one.
inline std::optional<std::size_t> array_length(std::string_view bytes) noexcept {
  if (bytes.empty()) return std::nullopt;
  const auto byte = [&](std::size_t i) {
    return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i]));
  };
  const std::size_t tag = byte(0);
  if ((tag & 0xf0) == 0x90) return tag & 0x0f;
  if (tag == 0xdc && bytes.size() >= 3) return byte(1) << 8 | byte(2);
  if (tag == 0xdd && bytes.size() >= 5) return byte(1) << 24 | byte(2) << 16 | byte(3) << 8 | byte(4);
  return std::nullopt;
}

}  // namespace detail

// Decodes an encoded argument tuple as Tuple, insisting on its arity
// (MessagePack's tuples would quietly accept too few or too many).
// Throws codec::DecodeError.
template <class Tuple>
Tuple decode_arguments(std::string_view args) {
  constexpr std::size_t expected = std::tuple_size_v<Tuple>;
  const auto got = detail::array_length(args);
  if (!got) throw codec::DecodeError("the arguments are not an array");
  if (*got != expected) {
    throw codec::DecodeError("expected " + std::to_string(expected) + " argument(s), got " +
                             std::to_string(*got));
  }
  return codec::decode<Tuple>(args);
}

// Decodes `args` as the parameters of `fn`, calls object.*fn(params...) —
// object.*fn(*caller, params...) when fn's first parameter is a Caller& —
// and returns the encoded result (nil for void). Throws codec::DecodeError
// for arguments of the wrong shape, and what the function throws.
template <class T, class Fn>
  requires std::is_member_function_pointer_v<Fn>
std::string invoke_encoded(T& object, Fn fn, std::string_view args, Caller* caller = nullptr) {
  using Signature = detail::MemberFunction<Fn>;
  auto params = decode_arguments<typename Signature::Params>(args);
  auto call = [&](auto&&... p) -> decltype(auto) {
    if constexpr (Signature::takes_caller) {
      return (object.*fn)(*caller, std::move(p)...);
    } else {
      return (object.*fn)(std::move(p)...);
    }
  };
  if constexpr (std::is_void_v<typename Signature::Result>) {
    std::apply(call, std::move(params));
    return codec::encode(std::monostate{});
  } else {
    return codec::encode(std::apply(call, std::move(params)));
  }
}

// Method names to member functions of T, each called through
// invoke_encoded: how a Managed object dispatches a call by name.
template <class T>
class MethodTable {
 public:
  template <class Fn>
    requires std::is_member_function_pointer_v<Fn>
  MethodTable& add(std::string name, Fn fn) {
    thunks_[std::move(name)] = [fn](T& object, std::string_view args, Caller& caller) {
      return invoke_encoded(object, fn, args, &caller);
    };
    return *this;
  }

  // Runs `method` of `object` for `caller` (which a method taking a Caller&
  // receives). Throws AttributeError("'<type_name>' object has no attribute
  // '<method>'") for a name it does not have, and what invoke_encoded
  // throws.
  std::string call(T& object, std::string_view type_name, std::string_view method,
                   std::string_view args, Caller& caller) const {
    auto found = thunks_.find(method);
    if (found == thunks_.end()) {
      throw AttributeError("'" + std::string(type_name) + "' object has no attribute '" +
                           std::string(method) + "'");
    }
    return found->second(object, args, caller);
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, std::function<std::string(T&, std::string_view, Caller&)>, Hash,
                     std::equal_to<>>
      thunks_;
};

namespace detail {

// The built-in typeids. Each returns null for a typeid it does not make;
// `args` is the encoded tuple of constructor arguments.
//   containers: "dict", "list", "Namespace", "Value", "Array"
//   sync:       "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Event",
//               "Condition", "Barrier", "Queue", "JoinableQueue"
std::unique_ptr<Managed> make_container(std::string_view type_id, std::string_view args);
std::unique_ptr<Managed> make_sync_object(std::string_view type_id, std::string_view args);

}  // namespace detail

}  // namespace weft::mp::manager
