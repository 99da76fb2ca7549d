// weft/mp/shared_memory.hpp — Python's multiprocessing.shared_memory:
// a named block of memory that unrelated processes can open by name.
//
// SharedMemory(name, create, size) is Python's SharedMemory(name=None,
// create=False, size=0): a POSIX shared memory object (shm_open, living in
// /dev/shm) mapped into this process. With create == true it creates a new
// segment of `size` bytes, named `name` or, when no name is given, a fresh
// random one ("wnsm_" and eight hex digits, as Python's "psm_"). Without
// create it attaches to an existing segment, whose size is whatever the
// segment's is (the `size` argument is then ignored, as in Python).
//
//   mp::SharedMemory shm(std::nullopt, true, 4096);  // create
//   mp::SharedMemory peer(shm.name());               // attach (elsewhere)
//   peer.buf()[0] = std::byte{42};
//
// Where weft beats Python: the segment is unlinked exactly once, by its
// creator. The creating object unlinks it when destroyed unless unlink()
// was called (or track is false, Python 3.13's way of saying the caller
// unlinks). A process that merely attached never unlinks anything on its
// own and registers nothing for cleanup (Python's resource tracker unlinks
// segments that a process only attached to); a fork child holding a copy of
// the creator does not unlink either, since the creator's pid is recorded.
// The destructor unlinks only if the name still refers to the segment this
// object created, so it never removes a newer segment that reused the name.
//
// A creator that dies without running that destructor (SIGKILL, the OOM
// killer, std::terminate, _exit, or the object leaked) leaves the unlink to
// the resource tracker, as Python's does: a process of the program's own
// executable, started by the first segment a process creates, that unlinks
// such segments once every process of the program (the creator and the
// children forked from it) has ended, and warns on stderr ("There appear to
// be N leaked shared_memory objects to clean up at shutdown"). It too
// unlinks a name only if it still refers to the segment created under it.
// A tracker that died (killed, say) is started again by the next segment
// created or unlinked, warning on stderr as Python does; the segments the
// dead one knew of go untracked.
// If the tracker cannot be started, segments go untracked. The segments
// behind weft::mp's locks, Value and Array need none of this: they are
// anonymous (memfd) and go away with their last user.
//
// The memory itself is not synchronised: coordinate access with a
// process-shared lock or another protocol, as in Python.
//
// Crossing a process boundary (weft::codec, as Python pickles it): a
// SharedMemory encodes as its name, and decoding attaches to that name, so
// a segment passed to a child started with spawn or forkserver is attached
// there and never unlinked by the child. Decoding throws what attaching
// throws (e.g. net::FileNotFoundError).
//
// Thread-safety: const members may be called concurrently; close() and
// unlink() must not race with other use of the same object. Move-only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "weft/codec.hpp"

namespace weft::mp {

class SharedMemory {
 public:
  // Creates (create == true) or attaches to the segment `name` (given
  // without the leading '/', as Python's name). Does not block.
  // Throws:
  //   ValueError if create is true and size is 0, or if no name is given
  //     without create, or if the segment to attach to is empty;
  //   net::FileExistsError if create is true and `name` exists;
  //   net::FileNotFoundError if create is false and `name` does not exist;
  //   another net::OSError (std::system_error) for other failures, e.g.
  //     EINVAL for a name containing '/', EACCES, ENOMEM.
  explicit SharedMemory(std::optional<std::string_view> name, bool create = false,
                        std::size_t size = 0, bool track = true);

  // Closes and, in the creating process, unlinks (see above). Never throws.
  ~SharedMemory();

  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  // The segment's name, without the leading '/' (Python's name).
  const std::string& name() const noexcept { return name_; }

  // The mapped size in bytes: for a created segment the size asked for,
  // for an attached one the segment's size.
  std::size_t size() const noexcept { return size_; }

  // The shared bytes; empty after close().
  std::span<std::byte> buf() const noexcept { return {data_, data_ ? size_ : 0}; }

  // Unmaps the memory and closes the descriptor; the segment lives on for
  // the processes still using it. Idempotent. Never throws.
  void close() noexcept;

  // Removes the segment's name, as shm_unlink: processes that have it
  // mapped keep their memory, and the segment is freed when the last one
  // closes. Any process may call it (Python's rule); once called, the
  // creator's destructor no longer unlinks. Throws net::FileNotFoundError
  // if the name is already gone, net::OSError otherwise on failure.
  void unlink();

 private:
  void map(bool create, std::size_t size);

  std::string name_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  int fd_ = -1;
  // The process whose destructor unlinks: the creator's pid, or 0 when
  // attached, untracked or already unlinked. The segment's identity is
  // checked before the destructor unlinks.
  pid_t unlink_pid_ = 0;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

}  // namespace weft::mp

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <>
struct pack<weft::mp::SharedMemory> {
  template <typename Stream>
  packer<Stream>& operator()(packer<Stream>& o, const weft::mp::SharedMemory& v) const {
    return o.pack(v.name());
  }
};

template <>
struct as<weft::mp::SharedMemory> {
  weft::mp::SharedMemory operator()(const msgpack::object& o) const {
    return weft::mp::SharedMemory(o.as<std::string>());
  }
};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
