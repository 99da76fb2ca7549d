// The stacks greenlets run on: mmap'd, reused, guarded while the process
// has mappings to spare.
//
// A guarded stack is a mapping of its own with a PROT_NONE page below it:
// two of the process's vm.max_map_count mappings (65,530 by default). So
// only the first quarter of that budget is spent on guarded stacks; the
// others are carved from slabs of 64 stacks (one mapping per slab) and carry
// a canary instead — their lowest bytes, zero in fresh memory, which only an
// overflow writes (reading them costs no memory) — checked whenever their
// greenlet switches out or ends (see check_canary). Transparent huge pages
// are off for every stack: a greenlet that touches one page costs one page.
//
// Freed stacks go back to a pool per size and are handed out again; past
// kWarmStacks free ones, a freed stack returns its memory to the kernel
// (MADV_DONTNEED) so that a burst of greenlets does not pin its peak
// memory, and stays mapped for the next burst.
//
// Thread-safety: allocate() and release() may be called from any thread.
#pragma once

#include <cstddef>

namespace weft::green::detail {

struct Stack {
  std::byte* base = nullptr;  // lowest usable address
  std::size_t size = 0;       // usable bytes
  bool guarded = false;

  std::byte* top() const noexcept { return base + size; }
  explicit operator bool() const noexcept { return base != nullptr; }
  // Whether `address` lies in the guard page (or, for a stack without one,
  // the canary) just below this stack: an overflow.
  bool overflowed_at(const void* address) const noexcept;
};

// Bytes at the low end of an unguarded stack that must never change.
inline constexpr std::size_t kCanaryBytes = 64;

class StackPool {
 public:
  static StackPool& instance();

  // A stack of at least `size` usable bytes (whole pages). Throws
  // ValueError as usable_size() does, std::bad_alloc when the kernel refuses
  // the memory.
  Stack allocate(std::size_t size);
  // Takes the stack back; it must not be in use.
  void release(Stack stack) noexcept;

  // Whether an unguarded stack's canary is intact (always true for a
  // guarded one).
  static bool check_canary(const Stack& stack) noexcept { return stack.guarded || canary_intact(stack); }

  // The usable bytes allocate(size) gives: whole pages, at least four.
  // Throws ValueError for a size too large for any stack (more than the
  // address space mmap() hands out without a hint: 2^47 bytes on x86-64,
  // 2^48 on AArch64).
  static std::size_t usable_size(std::size_t size);

  static std::size_t page_size() noexcept;

 private:
  static bool canary_intact(const Stack& stack) noexcept;
};

}  // namespace weft::green::detail
