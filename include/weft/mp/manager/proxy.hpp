// weft/mp/manager/proxy.hpp — the client side of a manager: BaseProxy,
// Python's multiprocessing.managers.BaseProxy.
//
// A proxy refers to one object held by a manager's server and forwards
// method calls to it: callmethod<R>("name", args...) encodes the
// arguments, sends them over the calling thread's connection to the
// server, blocks for the reply and decodes it as an R — or re-throws the
// exception the method raised (weft/mp/remote_error.hpp). Each thread of
// each process has its own connection to a given server, made on first
// use; a child (of any start method) makes its own rather than share its
// parent's. A call costs one round trip. On a local (Unix socket) server
// that connection carries its calls through shared memory it hands the
// server once — no system call per call while both sides are busy, about
// a microsecond a call on an idle machine; messages too large for it (over
// 64 KiB) and remote (TCP) servers use the socket.
//
// Proxies are copyable (copies refer to the same object) and
// codec-encodable, so they can be passed to child processes of every
// start method and sent over Connections; every class derived from
// BaseProxy that is constructible from a BaseProxy is encodable as well.
// The encoding carries the server's address, the object's id and the
// manager's authentication key (so that the receiver can connect): send
// proxies only to processes you would give the key to.
//
// Reference counting: the server keeps an object while any proxy of it
// exists in any process. Each process holds its references on one
// connection of its own, so a process that dies, even by SIGKILL, releases
// them all. A child started with fork takes its reference when it first
// uses an inherited proxy. As in Python, an encoded proxy holds no
// reference itself: the sender must keep a proxy of the object until the
// receiver has decoded its copy — or, for a child started with fork, used
// it once. Process::start() drops the parent's copy of the arguments at
// once (as Python's does), so keep a proxy you pass to a child until the
// child has taken its reference (joining the child is always enough);
// decoding one whose object is gone throws KeyError.
//
// Unlike Python, a proxy stored in a managed object (appended to a
// manager's list, set as a dict's value, a Namespace's attribute) does not
// keep its referent alive: the server holds only its encoding and takes no
// reference for it (Python's server keeps one in id_to_local_proxy_obj).
// Keep a proxy of the referent for as long as the stored copy may be
// read: once the last proxy of it is gone, the server drops the referent,
// and decoding the stored copy throws KeyError.
//
// Errors: a manager that is gone (its server killed or shut down) makes
// every call throw ManagerGoneError (no call hangs); a wrong authkey
// throws AuthenticationError at connection.
//
// Thread-safety: every member may be called from any thread, on any copy.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <variant>

#include "weft/codec.hpp"
#include "weft/mp/errors.hpp"

namespace weft::mp {

// The manager's server process is unreachable: it was shut down or died.
class ManagerGoneError : public ProcessError {
 public:
  using ProcessError::ProcessError;
};

namespace detail {
struct ProxyState;

// What an encoded proxy carries.
struct ProxyToken {
  std::string address;  // net::Address::to_string() of the server
  std::string authkey;
  std::string type_id;
  std::uint64_t id = 0;
  WEFT_CODEC(address, authkey, type_id, id)
};
}  // namespace detail

class BaseProxy {
 public:
  explicit BaseProxy(std::shared_ptr<detail::ProxyState> state) noexcept : state_(std::move(state)) {}

  // Calls `method` on the referent with `args`; blocks for its result.
  // Throws what the method threw (rebuilt in this process),
  // codec::DecodeError when the result is not an R, ManagerGoneError.
  template <class R = void, class... A>
  R callmethod(std::string_view method, const A&... args) const {
    std::string reply = call_raw(method, codec::encode(std::forward_as_tuple(args...)));
    if constexpr (std::is_void_v<R>) {
      codec::decode<std::monostate>(reply);
    } else {
      return codec::decode<R>(reply);
    }
  }

  // The referent's typeid ("dict", "Lock", a registered name).
  const std::string& type_id() const noexcept;
  // The referent's id on its server.
  std::uint64_t id() const noexcept;

  const std::shared_ptr<detail::ProxyState>& state() const noexcept { return state_; }

  // What the encoding carries; and a proxy rebuilt from it in this process
  // (which takes a reference: throws ManagerGoneError when the server is
  // unreachable, KeyError when the object no longer exists).
  detail::ProxyToken token() const;
  static BaseProxy from_token(const detail::ProxyToken& token);

 protected:
  // Sends one call with already-encoded arguments; returns the encoded result.
  std::string call_raw(std::string_view method, std::string encoded_args) const;

 private:
  std::shared_ptr<detail::ProxyState> state_;
};

namespace detail {
template <class P>
inline constexpr bool is_proxy =
    std::is_base_of_v<BaseProxy, P> && std::is_constructible_v<P, BaseProxy>;
}  // namespace detail

}  // namespace weft::mp

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <class P>
  struct pack<P, std::enable_if_t<weft::mp::detail::is_proxy<P>>> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const P& proxy) const {
      return out.pack(static_cast<const weft::mp::BaseProxy&>(proxy).token());
    }
  };

  template <class P>
  struct as<P, std::enable_if_t<weft::mp::detail::is_proxy<P>>> {
    P operator()(const msgpack::object& in) const {
      return P(weft::mp::BaseProxy::from_token(in.as<weft::mp::detail::ProxyToken>()));
    }
  };

  template <class P>
  struct convert<P, std::enable_if_t<weft::mp::detail::is_proxy<P>>> {
    const msgpack::object& operator()(const msgpack::object& in, P& proxy) const {
      proxy = as<P>()(in);
      return in;
    }
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
