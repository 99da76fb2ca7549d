// weft/mp/detail/resource_sharer.hpp — Python's
// multiprocessing.resource_sharer: lending a descriptor to whichever
// process asks for it, for objects that own one (a Connection, a
// net::Socket) encoded outside a child's start, e.g. as a Pool task's
// argument or an item of a Queue.
//
// lend_fd() keeps a duplicate of the descriptor in this process and returns
// a LentFd: the abstract AF_UNIX address of this process's sharer thread,
// this process's pid and a random 128-bit key. take_lent_fd(), in any
// process of the same user, network namespace and pid namespace (this one
// included),
// connects there, checks that the lender listens there (SO_PEERCRED),
// presents the key and receives the duplicate over SCM_RIGHTS. Each lent
// descriptor is taken at most once; the lender closes its duplicate right
// after handing it over, and take_lent_fd() waits for that (within its
// time limit). One that is never taken stays open until the lender exits,
// as in Python, unless Loans withdraw it.
//
// The sharer thread starts with the first lend_fd() and serves until the
// process exits, one peer at a time. It refuses a peer of another user at
// once (SO_PEERCRED), and gives a peer at most 5 seconds to send its key
// and 5 more to receive the answer.
// Should its listening socket fail for good, it closes what it lent
// (takers are refused) and the next lend_fd() starts afresh. A child
// created by fork() starts with nothing lent: its copies of the parent's
// duplicates, of the descriptor being handed over and of the sharer's
// sockets are closed, and its own first lend_fd() starts its own thread.
// (A child of a raw clone() or _Fork(), which skip fork handlers, must not
// lend.)
//
// Thread-safety: every call is thread-safe; a Loans object belongs to one
// thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
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
// TimeoutError too while the lender's listen queue stays full, EMFILE when
// the descriptor came but this process could not receive it),
// AuthenticationError when the caller's user is not the lender's or the
// address is not the lender's, and codec::DecodeError when the lender has
// nothing under that key (it was taken already, or withdrawn).
int take_lent_fd(const LentFd& lent);

// The loans made while encoding a value that a later step may still fail
// to deliver (a full Queue, a closed Pool, a broken Connection): unless
// keep() is called, they are withdrawn (closed, no longer to be taken)
// when the Loans end.
//
//   Loans loans;
//   std::string bytes = loans.record([&] { return codec::encode(value); });
//   deliver(bytes);  // may throw: the loans are withdrawn
//   loans.keep();
//
// record() notes what its thread lends only while `encode` runs, so the
// delivery may block, or park a greenlet, freely. Records do not nest.
class Loans {
 public:
  Loans() = default;
  ~Loans();
  Loans(const Loans&) = delete;
  Loans& operator=(const Loans&) = delete;

  // Runs encode() and returns what it returns, noting what it lends.
  template <class Encode>
  decltype(auto) record(Encode&& encode) {
    const Recording recording(*this);
    return std::forward<Encode>(encode)();
  }

  void keep() noexcept { kept_ = true; }

 private:
  friend LentFd lend_fd(int fd);
  class Recording {
   public:
    explicit Recording(Loans& loans) noexcept;
    ~Recording();
    Recording(const Recording&) = delete;
    Recording& operator=(const Recording&) = delete;
  };
  std::vector<std::array<std::uint8_t, 16>> keys_;
  bool kept_ = false;
};

}  // namespace weft::mp::detail
