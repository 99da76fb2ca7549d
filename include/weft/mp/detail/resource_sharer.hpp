// weft/mp/detail/resource_sharer.hpp — Python's
// multiprocessing.resource_sharer: lending a descriptor to whichever
// process asks for it, for objects that own one (a Connection, a
// net::Socket) encoded outside a child's start, e.g. as a Pool task's
// argument or an item of a Queue.
//
// lend_fd() keeps a duplicate of the descriptor in this process and returns
// a LentFd: the abstract AF_UNIX address of this process's sharer thread and
// a random 128-bit key. take_lent_fd(), in any process of the same user and
// network namespace (this one included), connects there, presents the key and receives the
// duplicate over SCM_RIGHTS. Each lent descriptor is taken at most once;
// the lender closes its duplicate when it hands it over, before
// take_lent_fd() returns. One that is never
// taken stays open until the lender exits, as in Python.
//
// The sharer thread starts with the first lend_fd() and serves until the
// process exits, one request at a time. It hands descriptors only to peers
// of this process's effective user (SO_PEERCRED), and waits at most 5
// seconds for a peer's key. Should its listening socket fail for good, it
// closes what it lent (takers are refused) and the next lend_fd() starts
// afresh. A child created by fork() starts with nothing lent: its
// copies of the parent's duplicates are closed, and its own first
// lend_fd() starts its own thread. (A child of a raw clone() or _Fork(),
// which skip fork handlers, must not lend.)
//
// Thread-safety: both calls are thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace weft::mp::detail {

struct LentFd {
  // The sharer's abstract socket name, with its leading '\0'.
  std::string address;
  std::array<std::uint8_t, 16> key{};
};

// Duplicates `fd` and lends the duplicate. Throws net::OSError (EBADF,
// EMFILE, or what starting the sharer met). Never blocks for long: the
// first call binds the sharer's socket and starts its thread.
LentFd lend_fd(int fd);

// Takes the descriptor lent under `lent`: a new close-on-exec descriptor
// owned by the caller. Blocks until the lender answers. Throws
// net::OSError (ConnectionRefusedError when the lender no longer runs),
// AuthenticationError when the caller's user is not the lender's, and
// codec::DecodeError when the lender has nothing under that key (it was
// taken already).
int take_lent_fd(const LentFd& lent);

}  // namespace weft::mp::detail
