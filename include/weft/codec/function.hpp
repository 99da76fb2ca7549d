// weft/codec/function.hpp — functions by reference: naming a free function
// or a captureless lambda so that another process of the same executable
// can call it, as pickle names a function by its module and qualified name.
//
// A function pointer is encoded as a FunctionRef: the identity of the
// module (executable or shared library) that holds the code, the offset of
// the function from that module's load base, and a hash of the function's
// type. The module's identity is its ELF build-id when it has one, else its
// path, size and modification time, so a reference made by one binary is
// refused by any other. Load addresses may differ between processes (PIE,
// ASLR); offsets do not.
//
// Decoding validates everything before handing out a pointer: the module
// must be loaded in this process, the offset must fall inside one of its
// executable segments, and the type hash must match the requested type.
// Anything else raises DecodeError — an unchecked address is never called.
// (An offset inside an executable segment that is not the start of a
// function of that type can only come from a forged reference of the same
// binary; the check is against accidents and other binaries, not against a
// peer allowed to run code in this executable anyway.)
//
// With this header, codec::encode(&f) and codec::decode<R (*)(A...)>(bytes)
// work, as does any function pointer inside an encoded value. A captureless
// lambda becomes a function pointer with unary + (`+[](int x) { ... }`) or
// function_pointer(lambda).
//
// Thread-safety: every function here may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "weft/codec.hpp"

namespace weft::codec {

// Where a function lives, in terms another process of the same executable
// understands. Encoded as the array [module, offset, signature].
struct FunctionRef {
  std::string module;           // "build-id:<hex>" or "file:<path>:<size>:<mtime ns>"
  std::uint64_t offset = 0;     // from the module's load base
  std::uint64_t signature = 0;  // hash of the function's type

  friend bool operator==(const FunctionRef&, const FunctionRef&) = default;
};

namespace detail {

// FNV-1a of the type's mangled name: stable across processes of one binary.
std::uint64_t signature_hash(const std::type_info& type) noexcept;

// The reference of the code at `address`. Throws EncodeError if no loaded
// module has an executable segment there (a JIT buffer, a stack address).
FunctionRef locate_function(const void* address, std::uint64_t signature);

// The address `ref` names in this process. Throws DecodeError unless the
// module is loaded, the offset is inside one of its executable segments and
// the signature is `expected`.
const void* resolve_function(const FunctionRef& ref, std::uint64_t expected);

template <class T>
inline constexpr bool is_function_pointer_v =
    std::is_pointer_v<T> && std::is_function_v<std::remove_pointer_t<T>>;

}  // namespace detail

// A free function or a captureless (non-generic) lambda: what can be named
// by reference.
template <class F>
concept FunctionReference =
    detail::is_function_pointer_v<std::decay_t<F>> ||
    (std::is_class_v<std::remove_cvref_t<F>> &&
     requires(const std::remove_cvref_t<F>& f) {
       requires detail::is_function_pointer_v<decltype(+f)>;
     });

// The function pointer behind a function or a captureless lambda.
template <FunctionReference F>
auto function_pointer(F&& f) noexcept {
  if constexpr (detail::is_function_pointer_v<std::decay_t<F>>) {
    return static_cast<std::decay_t<F>>(f);
  } else {
    return +f;
  }
}

// The reference of `fn`. Throws EncodeError for a null pointer or code
// outside every loaded module.
template <class F>
  requires std::is_function_v<F>
FunctionRef function_ref(F* fn) {
  if (fn == nullptr) throw EncodeError("cannot encode a null function pointer");
  return detail::locate_function(reinterpret_cast<const void*>(fn),
                                 detail::signature_hash(typeid(F*)));
}

// The function `ref` names, as an F*. Throws DecodeError as described at
// the top of this file.
template <class F>
  requires std::is_function_v<F>
F* function_from_ref(const FunctionRef& ref) {
  const void* address = detail::resolve_function(ref, detail::signature_hash(typeid(F*)));
  return reinterpret_cast<F*>(const_cast<void*>(address));
}

}  // namespace weft::codec

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<weft::codec::FunctionRef> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, const weft::codec::FunctionRef& ref) const {
    o.pack_array(3);
    o.pack(ref.module);
    o.pack(ref.offset);
    o.pack(ref.signature);
    return o;
  }
};

template <>
struct convert<weft::codec::FunctionRef> {
  const msgpack::object& operator()(const msgpack::object& o, weft::codec::FunctionRef& ref) const {
    if (o.type != msgpack::type::ARRAY || o.via.array.size != 3 || o.via.array.ptr[0].type != msgpack::type::STR)
      throw weft::codec::DecodeError("a function reference is an array [module, offset, signature]");
    ref.module = o.via.array.ptr[0].as<std::string>();
    ref.offset = o.via.array.ptr[1].as<std::uint64_t>();
    ref.signature = o.via.array.ptr[2].as<std::uint64_t>();
    return o;
  }
};

// Function pointers decode through as<> rather than convert<>: msgpack's
// legacy object::convert(T*) would take a pointer for an output argument.
template <class R, class... A>
struct pack<R (*)(A...)> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, R (*fn)(A...)) const {
    return o.pack(weft::codec::function_ref(fn));
  }
};

template <class R, class... A>
struct as<R (*)(A...)> {
  R (*operator()(const msgpack::object& o) const)(A...) {
    return weft::codec::function_from_ref<R(A...)>(o.as<weft::codec::FunctionRef>());
  }
};

template <class R, class... A>
struct pack<R (*)(A...) noexcept> {
  template <class Stream>
  packer<Stream>& operator()(packer<Stream>& o, R (*fn)(A...) noexcept) const {
    return o.pack(weft::codec::function_ref(fn));
  }
};

template <class R, class... A>
struct as<R (*)(A...) noexcept> {
  R (*operator()(const msgpack::object& o) const)(A...) noexcept {
    return weft::codec::function_from_ref<R(A...) noexcept>(o.as<weft::codec::FunctionRef>());
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
