// DupFd: choosing how a descriptor travels, and getting it back.
#include "weft/mp/detail/dup_fd.hpp"

#include <fcntl.h>

#include <algorithm>
#include <string>
#include <utility>

#include "weft/mp/detail/fd_sharing.hpp"
#include "weft/net/errors.hpp"

namespace weft::mp::detail {

namespace {
thread_local const char* refused_because = nullptr;
}  // namespace

DescriptorsRefused::DescriptorsRefused(const char* why) noexcept
    : outer_(std::exchange(refused_because, why)) {}

DescriptorsRefused::~DescriptorsRefused() { refused_because = outer_; }

DupFd DupFd::of(int fd) {
  if (refused_because != nullptr)
    throw codec::EncodeError(
        std::string("a descriptor (a Connection, a net::Socket) cannot be encoded here: ") +
        refused_because);
  if (starting_a_child()) return DupFd(share_fd_with_child(fd, "descriptor"));
  return DupFd(lend_fd(fd));
}

int DupFd::detach() const {
  if (const auto* lent = std::get_if<LentFd>(&where_)) return take_lent_fd(*lent);
  const int fd = ::fcntl(inherited_fd(std::get<std::uint32_t>(where_)), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) net::raise_os_error(errno, "dup");
  return fd;
}

}  // namespace weft::mp::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  weft::mp::detail::DupFd as<weft::mp::detail::DupFd>::operator()(const msgpack::object& in) const {
    using weft::mp::detail::DupFd;
    using weft::mp::detail::LentFd;
    if (in.type == msgpack::type::POSITIVE_INTEGER) return DupFd(in.as<std::uint32_t>());
    if (in.type != msgpack::type::ARRAY || in.via.array.size != 3) throw msgpack::type_error();
    const msgpack::object& address = in.via.array.ptr[0];
    const msgpack::object& key = in.via.array.ptr[1];
    LentFd lent;
    if (address.type != msgpack::type::STR || key.type != msgpack::type::BIN ||
        key.via.bin.size != lent.key.size())
      throw msgpack::type_error();
    lent.address.assign(address.via.str.ptr, address.via.str.size);
    lent.pid = in.via.array.ptr[2].as<std::int32_t>();
    std::copy_n(reinterpret_cast<const std::uint8_t*>(key.via.bin.ptr), lent.key.size(),
                lent.key.begin());
    return DupFd(std::move(lent));
  }

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
