// weft/selectors/detail/poll_backend.hpp — the poll(2) half of
// PollSelector: the pollfd array the kernel scans, kept up to date in place.
//
// add, modify and remove are O(1): the array is unordered and each
// descriptor's slot is remembered. Not thread-safe; the owning selector
// serializes every call.
#pragma once

#include <poll.h>

#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/detail/ready_fd.hpp"

namespace weft::selectors::detail {

class PollBackend {
 public:
  // Watches `fd` (not yet watched) for `events`. A descriptor need not be
  // open (poll(2) then reports it invalid), but one that is not open and
  // at or above the hard limit on descriptors, so that this process could
  // never open it, throws std::system_error(EBADF) rather than growing the
  // tables to its number. Throws std::bad_alloc.
  void add(int fd, int events);
  // Never throws.
  void modify(int fd, int events) noexcept;
  // Never throws.
  void remove(int fd) noexcept;

  // Blocks until a watched descriptor is ready or `deadline` passes, then
  // replaces `ready` with what is ready. Retries EINTR with the time left.
  // Throws std::system_error if poll(2) fails.
  void wait(const weft::detail::Deadline& deadline, std::vector<ReadyFd>& ready);

  // Forgets every descriptor. Never throws.
  void close() noexcept;

 private:
  std::vector<pollfd> fds_;
  // Slot of each descriptor in fds_, -1 if not watched; indexed by fd.
  std::vector<int> slot_;
};

}  // namespace weft::selectors::detail
