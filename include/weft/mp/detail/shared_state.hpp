// weft/mp/detail/shared_state.hpp — a handle to an object placed in its own
// SharedBlock: the representation of every weft::mp synchronisation
// primitive and shared ctypes value.
//
// The block starts with a header naming what it holds (a kind, the element
// size and count), so that a descriptor received from a parent is checked
// before it is trusted; the object(s) follow at a fixed offset. Objects are
// constructed once, by the creating process, and never destroyed: other
// processes may still use them, and the memory goes away with the last
// mapping.
//
// A handle is a shared_ptr to the block plus a pointer into it: copying one
// is cheap and the copy refers to the same object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "weft/errors.hpp"
#include "weft/mp/detail/shared_block.hpp"

namespace weft::mp::detail {

enum class StateKind : std::uint32_t {
  lock = 1, rlock, semaphore, event, condition, barrier, value, array
};

struct StateHeader {
  std::uint32_t magic;
  StateKind kind;
  std::uint64_t element_size;
  std::uint64_t count;
};

inline constexpr std::uint32_t kStateMagic = 0x77656674;  // "weft"
inline constexpr std::size_t kStateOffset = 64;

// Throws ValueError if `count` elements of `element_size` bytes and a
// header do not fit in the address space.
inline void check_state_size(std::size_t element_size, std::size_t count) {
  const std::size_t room = static_cast<std::size_t>(-1) - kStateOffset;
  if (element_size != 0 && count > room / element_size) throw ValueError("shared object too large");
}

// Creates a block of `count` elements of `element_size` bytes behind a
// header (a size check_state_size accepted). Throws std::system_error if
// the block cannot be created.
std::shared_ptr<SharedBlock> create_state_block(StateKind kind, std::size_t element_size,
                                                std::size_t count, const char* name);

// The block a parent shared under `token`, checked to hold `kind` objects of
// `element_size` bytes; returns their count. Throws codec::DecodeError.
std::shared_ptr<SharedBlock> state_block_from_parent(std::uint32_t token, StateKind kind,
                                                     std::size_t element_size,
                                                     std::size_t& count);

template <class State>
class SharedState {
  static_assert(alignof(State) <= kStateOffset);

 public:
  // Creates a block holding `count` States, each constructed from `args`.
  template <class... Args>
  static SharedState make(StateKind kind, const char* name, std::size_t count,
                          const Args&... args) {
    check_state_size(sizeof(State), count);
    auto block = create_state_block(kind, sizeof(State), count, name);
    State* first = first_of(*block);
    for (State* at = first; at != first + count; ++at) new (at) State(args...);
    return SharedState(std::move(block), count);
  }

  // The States a parent shared under `token`. Throws codec::DecodeError.
  static SharedState from_parent(std::uint32_t token, StateKind kind) {
    std::size_t count = 0;
    auto block = state_block_from_parent(token, kind, sizeof(State), count);
    return SharedState(std::move(block), count);
  }

  State* get() const noexcept { return first_; }
  State& operator*() const noexcept { return *first_; }
  State* operator->() const noexcept { return first_; }
  std::size_t count() const noexcept { return count_; }

  // The token for a child being started (see fd_sharing.hpp). Throws
  // codec::EncodeError outside a start.
  std::uint32_t share_with_child(const char* what) const { return block_->share_with_child(what); }

 private:
  SharedState(std::shared_ptr<SharedBlock> block, std::size_t count) noexcept
      : block_(std::move(block)), first_(first_of(*block_)), count_(count) {}

  static State* first_of(const SharedBlock& block) noexcept {
    return std::launder(reinterpret_cast<State*>(block.as<std::byte>() + kStateOffset));
  }

  std::shared_ptr<SharedBlock> block_;
  State* first_;
  std::size_t count_;
};

}  // namespace weft::mp::detail
