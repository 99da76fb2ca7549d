// weft/mp/detail/fd_sharing.hpp — how an object that owns a file descriptor
// (a Connection, a Queue, a process-shared Lock, a shared block) reaches a
// child started with the spawn or forkserver method.
//
// Such a child is a new program image: it does not inherit the parent's
// objects, only the descriptors the parent hands over. While a Process
// encodes its arguments it opens an FdSharingScope; an object being encoded
// calls share_fd_with_child() and writes the returned token instead of the
// descriptor's number. In the child, the bootstrap installs the descriptors
// it received (set_inherited_fds) before decoding the arguments, and the
// object's decoder turns the token back into a descriptor with
// inherited_fd(). Python's multiprocessing.reduction.DupFd does the same.
//
// With the fork method nothing is encoded: the child is a copy of the parent
// and keeps the same descriptors.
//
// Thread-safety: the scope is per thread; each thread may start its own
// child. The inherited table is written once, by the child's bootstrap,
// before any user code of the child runs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace weft::mp::detail {

// Collects the descriptors to hand to the child being started by this
// thread. Scopes do not nest.
class FdSharingScope {
 public:
  FdSharingScope();
  ~FdSharingScope();
  FdSharingScope(const FdSharingScope&) = delete;
  FdSharingScope& operator=(const FdSharingScope&) = delete;

  // The descriptors shared so far, in token order. They stay owned by the
  // objects that shared them.
  std::span<const int> fds() const noexcept { return fds_; }

 private:
  friend std::uint32_t share_fd_with_child(int fd, const char* what);
  std::vector<int> fds_;
  FdSharingScope* previous_;
};

// Whether this thread is starting a child (an FdSharingScope is open).
bool starting_a_child() noexcept;

// Returns the token under which the child being started will find `fd`.
// Sharing the same descriptor twice returns the same token. Throws
// codec::EncodeError when no child is being started by this thread:
// "<what> objects should only be shared between processes through
// inheritance", as Python says.
std::uint32_t share_fd_with_child(int fd, const char* what);

// In a child: the descriptor its parent shared under `token`, still owned by
// the bootstrap (dup it to keep it). Throws codec::DecodeError for a token
// the parent never shared.
int inherited_fd(std::uint32_t token);

// Called by the child's bootstrap with the descriptors it received, indexed
// by token; and with an empty vector once the arguments are decoded (the
// bootstrap closes the descriptors).
void set_inherited_fds(std::vector<int> fds);

}  // namespace weft::mp::detail
