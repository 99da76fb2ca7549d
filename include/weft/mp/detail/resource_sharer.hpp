// weft/mp/detail/resource_sharer.hpp — Python's
// multiprocessing.resource_sharer: lending a descriptor to whichever
// process asks for it, for objects that own one (a Connection, a
// net::Socket) encoded outside a child's start, e.g. as a Pool task's
// argument or an item of a Queue.
//
// lend_fd() keeps a duplicate of the descriptor in this process and returns
// a LentFd: the abstract AF_UNIX address of this process's sharer thread,
// this process's pid and a random 128-bit key. take_lent_fd(), in any
// process of the same user and network namespace (this one included),
// connects there, checks that the lender listens there (SO_PEERCRED),
// presents the key and receives the duplicate over SCM_RIGHTS. Each lent
// descriptor is taken at most once; the lender closes its duplicate right
// after handing it over, and take_lent_fd() waits for that (within its
// time limit). One that is never taken stays open until the lender exits,
// as in Python, unless a LoanScope withdraws it.
//
// The sharer thread starts with the first lend_fd() and serves until the
// process exits, one peer at a time. It refuses a peer of another user at
// once (SO_PEERCRED), and gives a peer at most 5 seconds to send its key.
// Should its listening socket fail for good, it closes what it lent
// (takers are refused) and the next lend_fd() starts afresh. A child
// created by fork() starts with nothing lent: its copies of the parent's
// duplicates, of the descriptor being handed over and of the sharer's
// sockets are closed, and its own first lend_fd() starts its own thread.
// (A child of a raw clone() or _Fork(), which skip fork handlers, must not
// lend.)
//
// Thread-safety: every call is thread-safe; a LoanScope belongs to the
// thread that made it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace weft::mp::detail {

struct LentFd {
  // The sharer's abstract socket name, with its leading '\0'.
  std::string address;
  std::array<std::uint8_t, 16> key{};
  // The lender's process id.
  std::int32_t pid = 0;
};

// Duplicates `fd` and lends the duplicate. Throws net::OSError (EBADF,
// EMFILE, or what starting the sharer met). Never blocks for long: the
// first call binds the sharer's socket and starts its thread.
LentFd lend_fd(int fd);

// Takes the descriptor lent under `lent`: a new close-on-exec descriptor
// owned by the caller. Blocks until the lender answers, for at most 30
// seconds in all. Throws net::OSError (ConnectionRefusedError when the
// lender no longer runs, TimeoutError when it does not answer in time,
// EMFILE when the descriptor came but this process could not receive it),
// AuthenticationError when the caller's user is not the lender's or the
// address is not the lender's, and codec::DecodeError when the lender has
// nothing under that key (it was taken already, or withdrawn).
int take_lent_fd(const LentFd& lent);

// What this thread lends while a LoanScope lives is withdrawn (closed, no
// longer to be taken) when the scope ends, unless keep() was called: for a
// value encoded before a step that can still fail (a full Queue, a closed
// Pool, a broken Connection). A kept scope inside another hands its loans
// to the outer one.
class LoanScope {
 public:
  LoanScope() noexcept;
  ~LoanScope();
  LoanScope(const LoanScope&) = delete;
  LoanScope& operator=(const LoanScope&) = delete;

  void keep() noexcept { kept_ = true; }

 private:
  friend LentFd lend_fd(int fd);
  std::vector<std::array<std::uint8_t, 16>> keys_;
  LoanScope* outer_;
  bool kept_ = false;
};

}  // namespace weft::mp::detail
