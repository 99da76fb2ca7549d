// The per-thread collection of descriptors for a child being started, and
// the child's table of the descriptors it inherited.
#include "weft/mp/detail/fd_sharing.hpp"

#include <algorithm>
#include <string>

#include "weft/codec.hpp"

namespace weft::mp::detail {
namespace {

thread_local FdSharingScope* current_scope = nullptr;
std::vector<int> inherited;

}  // namespace

FdSharingScope::FdSharingScope() : previous_(current_scope) { current_scope = this; }

FdSharingScope::~FdSharingScope() { current_scope = previous_; }

bool starting_a_child() noexcept { return current_scope != nullptr; }

std::uint32_t share_fd_with_child(int fd, const char* what) {
  if (current_scope == nullptr) {
    throw codec::EncodeError(std::string(what) +
                             " objects should only be shared between processes through inheritance");
  }
  auto& fds = current_scope->fds_;
  const auto found = std::find(fds.begin(), fds.end(), fd);
  if (found != fds.end()) return static_cast<std::uint32_t>(found - fds.begin());
  fds.push_back(fd);
  return static_cast<std::uint32_t>(fds.size() - 1);
}

int inherited_fd(std::uint32_t token) {
  if (token >= inherited.size()) {
    throw codec::DecodeError("no descriptor was inherited under token " + std::to_string(token));
  }
  return inherited[token];
}

void set_inherited_fds(std::vector<int> fds) { inherited = std::move(fds); }

}  // namespace weft::mp::detail
