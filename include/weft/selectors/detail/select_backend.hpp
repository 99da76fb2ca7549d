// weft/selectors/detail/select_backend.hpp — the select(2) half of
// SelectSelector: the read and write descriptor sets, and the wait.
//
// Descriptors must be below FD_SETSIZE (1024 on Linux), select(2)'s limit.
// Not thread-safe; the owning selector serializes every call.
#pragma once

#include <sys/select.h>

#include <array>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/detail/ready_fd.hpp"

namespace weft::selectors::detail {

class SelectBackend {
 public:
  // Watches `fd` for `events`. Throws ValueError if fd >= FD_SETSIZE.
  void add(int fd, int events);
  // Never throws.
  void modify(int fd, int events) noexcept;
  // Never throws.
  void remove(int fd) noexcept;

  // Blocks until a watched descriptor is ready or `deadline` passes, then
  // replaces `ready` with what is ready. Retries EINTR with the time left.
  // Throws std::system_error if select(2) fails.
  void wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready);

  // Forgets every descriptor. Never throws.
  void close() noexcept;

 private:
  // The kernel's fd_set layout: descriptor fd is bit fd % W of word fd / W,
  // W being the bits of an unsigned long.
  using Bits = std::array<unsigned long, FD_SETSIZE / (8 * sizeof(unsigned long))>;
  static_assert(sizeof(Bits) == sizeof(fd_set));

  Bits readers_{};
  Bits writers_{};
  int max_fd_ = -1;
};

}  // namespace weft::selectors::detail
