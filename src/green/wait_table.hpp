// The hub's readiness waits: which greenlets of a thread wait on which file
// descriptors, and the one io::Loop watch per descriptor and direction that
// wakes them. Under wait_readable/wait_writable, green::socket and the
// monkey-patched calls (poll, select, read, recv, ...).
#pragma once

#include <sys/epoll.h>

#include <climits>
#include <cstdint>
#include <span>

#include "weft/detail/deadline.hpp"
#include "weft/green/hub.hpp"

namespace weft::green::detail {

inline constexpr std::uint32_t kReadable = EPOLLIN;
inline constexpr std::uint32_t kWritable = EPOLLOUT;

// One descriptor a wait is for, and for what: kReadable, kWritable or both.
struct FdInterest {
  int fd = -1;
  std::uint32_t events = 0;
};

// What wait_fds() reports besides readiness.
inline constexpr int kTimedOut = 0;
// The descriptor was closed through forget_fd() (close_fd, socket::close).
inline constexpr int kClosed = INT_MIN;

// Parks the calling greenlet (from the main greenlet: runs the hub) until
// one of `interests` is ready or the deadline passes. Returns the first
// report: > 0 the readiness mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP),
// kTimedOut, kClosed, or -errno when the loop could not watch a descriptor.
// `what` (a string literal) names the wait in dump() and LoopExit. Throws
// what is thrown into the park, ValueError when the descriptor already has
// a loop watch of someone else's in that direction; every watch is
// released on every path.
int wait_fds(Hub& hub, std::span<const FdInterest> interests, weft::detail::Deadline deadline,
             const char* what);

// wait_fds for one descriptor, in the terms of weft's sockets: true once
// it is ready, false when the deadline passed; throws net::OSError(EBADF)
// ("File descriptor was closed in another greenlet") or the OSError of the
// loop's failure to watch it, and what wait_fds throws.
bool wait_fd(int fd, std::uint32_t events, const weft::detail::Deadline& deadline, const char* what);

// Wakes every greenlet of this thread waiting on fd with kClosed and drops
// the watches on it. Returns whether the hub's loop has watched fd since it
// was last forgotten (then it must be closed with Loop::close). Never throws.
bool forget_fd(Hub& hub, int fd) noexcept;

// In a forked child: leaves this thread's table behind (leaked) without
// touching the inherited loop, whose watches are the parent's; the next
// wait makes a table for the child's own hub. Never throws.
void forsake_table_after_fork() noexcept;

}  // namespace weft::green::detail
