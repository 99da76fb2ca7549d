// weft/mp/detail/shared_block.hpp — an anonymous block of memory shared by
// a process and its children, the home of every process-shared object
// (locks, queues, values).
//
// A block is a memfd mapped MAP_SHARED. Children started with fork keep the
// mapping; children started with spawn or forkserver receive the descriptor
// (see fd_sharing.hpp) and map it again. The memory disappears when the last
// process holding the descriptor or a mapping lets go, so nothing is ever
// left behind in /dev/shm, whoever dies first.
//
// Handles are shared_ptr<SharedBlock>: copies of a weft::mp object in one
// process refer to the same block. The block itself is immutable after
// creation; what lives in it synchronises itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace weft::mp::detail {

class SharedBlock {
 public:
  // A new zero-filled block of at least `size` bytes. `name` shows in
  // /proc/<pid>/maps and fd listings ("weft:<name>"). Throws
  // std::system_error (ENOMEM, EMFILE, ...).
  static std::shared_ptr<SharedBlock> create(std::size_t size, const char* name);

  // Maps the block behind `fd`, which the caller keeps owning (it is
  // duplicated). Throws std::system_error, or codec::DecodeError when `fd`
  // is not a block weft created.
  static std::shared_ptr<SharedBlock> attach(int fd);

  ~SharedBlock();
  SharedBlock(const SharedBlock&) = delete;
  SharedBlock& operator=(const SharedBlock&) = delete;

  void* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  int fd() const noexcept { return fd_; }

  template <class T>
  T* as() const noexcept {
    return static_cast<T*>(data_);
  }

  // The token under which a child being started finds this block (see
  // fd_sharing.hpp); `what` names the owning object in the error raised
  // outside a start.
  std::uint32_t share_with_child(const char* what) const;

  // The block a parent shared under `token`, in a child.
  static std::shared_ptr<SharedBlock> from_parent(std::uint32_t token);

 private:
  // Maps `fd`, which the block then owns (closed on failure too).
  static std::shared_ptr<SharedBlock> map(int fd, std::size_t size);
  SharedBlock(int fd, void* data, std::size_t size) noexcept : fd_(fd), data_(data), size_(size) {}

  int fd_;
  void* data_;
  std::size_t size_;
};

}  // namespace weft::mp::detail
