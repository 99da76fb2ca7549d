// weft/mp/detail/dup_fd.hpp — Python's multiprocessing.reduction.DupFd: a
// descriptor as it is written inside an encoded value, for the objects
// that may cross to any process (a Connection, a net::Socket).
//
// Encoding picks the way the descriptor travels, as Python does:
//   - while this thread starts a child with spawn or forkserver
//     (FdSharingScope, fd_sharing.hpp), the child inherits it under a
//     token;
//   - anywhere else (a Pool task's argument, a Queue item, a message on a
//     Connection), this process lends a duplicate (resource_sharer.hpp)
//     that the decoding process takes from it.
// Decoding gives the decoder a descriptor of its own. Where a lent
// descriptor could not serve (a value bound for another machine, or decoded
// by several processes), a DescriptorsRefused scope makes encoding one
// throw codec::EncodeError.
//
// On the wire: a non-negative integer (the token), or an array of the
// lender's address (str), the key (bin, 16 bytes) and the lender's pid.
//
// Thread-safety: as its parts; an encoded DupFd may be decoded by any
// thread, once.
#pragma once

#include <cstdint>
#include <variant>

#include "weft/codec.hpp"
#include "weft/mp/detail/resource_sharer.hpp"

namespace weft::mp::detail {

// While one lives, DupFd::of on its thread throws codec::EncodeError("a
// descriptor (a Connection, a net::Socket) cannot be encoded here: " +
// why). `why` must outlive the scope. Scopes nest.
class DescriptorsRefused {
 public:
  explicit DescriptorsRefused(const char* why) noexcept;
  ~DescriptorsRefused();
  DescriptorsRefused(const DescriptorsRefused&) = delete;
  DescriptorsRefused& operator=(const DescriptorsRefused&) = delete;

 private:
  const char* outer_;
};

class DupFd {
 public:
  // How `fd` travels from here (see above). Throws codec::EncodeError
  // inside a DescriptorsRefused scope, and what share_fd_with_child and lend_fd
  // throw (net::OSError for a bad descriptor).
  static DupFd of(int fd);

  // A new close-on-exec descriptor owned by the caller: a duplicate of the
  // inherited one, or the lent one, taken from its lender (which blocks
  // until the lender answers). Throws codec::DecodeError for a token this
  // process did not inherit or a key with nothing lent under it, and what
  // take_lent_fd() throws.
  int detach() const;

  const std::variant<std::uint32_t, LentFd>& where() const noexcept { return where_; }
  explicit DupFd(std::variant<std::uint32_t, LentFd> where) : where_(std::move(where)) {}

 private:
  std::variant<std::uint32_t, LentFd> where_;
};

}  // namespace weft::mp::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct pack<weft::mp::detail::DupFd> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const weft::mp::detail::DupFd& dup) const {
      if (const auto* token = std::get_if<std::uint32_t>(&dup.where())) return out.pack(*token);
      const auto& lent = std::get<weft::mp::detail::LentFd>(dup.where());
      out.pack_array(3);
      out.pack_str(static_cast<std::uint32_t>(lent.address.size()));
      out.pack_str_body(lent.address.data(), static_cast<std::uint32_t>(lent.address.size()));
      out.pack_bin(static_cast<std::uint32_t>(lent.key.size()));
      out.pack_bin_body(reinterpret_cast<const char*>(lent.key.data()),
                        static_cast<std::uint32_t>(lent.key.size()));
      out.pack(lent.pid);
      return out;
    }
  };

  template <>
  struct as<weft::mp::detail::DupFd> {
    weft::mp::detail::DupFd operator()(const msgpack::object& in) const;
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
