// weft/detail/block_cache.hpp — recycled memory for objects that one thread
// allocates and another frees (a task made by a submitter and dropped by a
// worker), which glibc's malloc serves through a contended arena lock.
//
// Blocks come in a few size classes. Each thread keeps a magazine of free
// blocks per class and trades full and empty magazines with a shared depot
// under a mutex, once per magazine — not once per block. Larger or
// over-aligned requests go straight to operator new.
#pragma once

#include <cstddef>
#include <new>

namespace weft::detail {

// Raw blocks of at least `bytes` bytes, aligned for any standard type.
void* cached_allocate(std::size_t bytes);
void cached_deallocate(void* block, std::size_t bytes) noexcept;

// A standard allocator over the block cache, for std::allocate_shared.
template <class T>
struct CachedAllocator {
  using value_type = T;

  CachedAllocator() noexcept = default;
  template <class U>
  CachedAllocator(const CachedAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      return static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
    } else {
      return static_cast<T*>(cached_allocate(n * sizeof(T)));
    }
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if constexpr (alignof(T) > __STDCPP_DEFAULT_NEW_ALIGNMENT__) {
      ::operator delete(p, std::align_val_t(alignof(T)));
    } else {
      cached_deallocate(p, n * sizeof(T));
    }
  }

  template <class U>
  friend bool operator==(const CachedAllocator&, const CachedAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace weft::detail
