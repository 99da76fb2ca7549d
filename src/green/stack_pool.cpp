// StackPool: guarded mappings while the mapping budget lasts, slabs of
// canaried stacks after it; freed stacks are kept warm, then cooled.
#include "stack_pool.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "weft/errors.hpp"

namespace weft::green::detail {
namespace {

constexpr std::size_t kSlabStacks = 64;

// The bytes of address space mmap() hands out without a hint (Linux keeps
// the larger 5-level and 52-bit ranges for mappings that ask for them).
#if defined(__x86_64__)
constexpr std::size_t kMappableBytes = std::size_t{1} << 47;
#elif defined(__aarch64__)
constexpr std::size_t kMappableBytes = std::size_t{1} << 48;
#else
constexpr std::size_t kMappableBytes = std::numeric_limits<std::size_t>::max() / kSlabStacks;
#endif

// Free stacks of one size kept with their pages; further ones give their
// memory back but stay mapped, so that a burst of greenlets that comes
// again costs page faults, not mappings.
constexpr std::size_t kWarmStacks = 1024;

std::size_t read_max_map_count() noexcept {
  std::size_t count = 65530;
  if (std::FILE* file = std::fopen("/proc/sys/vm/max_map_count", "re")) {
    unsigned long value = 0;
    if (std::fscanf(file, "%lu", &value) == 1 && value > 0) count = value;
    std::fclose(file);
  }
  return count;
}

void no_huge_pages(void* address, std::size_t length) noexcept {
  // Best effort: a kernel without THP refuses with EINVAL.
  ::madvise(address, length, MADV_NOHUGEPAGE);
}

void* map_or_throw(std::size_t length) {
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  no_huge_pages(memory, length);
  return memory;
}

struct FreeStacks {
  std::vector<Stack> warm;  // pages kept
  std::vector<Stack> cold;  // pages returned to the kernel
};

class Pool {
 public:
  Stack allocate(std::size_t size) {
    std::lock_guard lock(mutex_);
    FreeStacks& free = free_[size];
    for (auto* list : {&free.warm, &free.cold}) {
      if (!list->empty()) {
        Stack stack = list->back();
        list->pop_back();
        return stack;
      }
    }
    return guarded_live_ < guarded_budget_ ? map_guarded(size) : carve(size);
  }

  void release(Stack stack) noexcept {
    std::lock_guard lock(mutex_);
    FreeStacks& free = free_[stack.size];
    if (free.warm.size() < kWarmStacks) {
      push(free.warm, stack);
    } else {
      ::madvise(stack.base, stack.size, MADV_DONTNEED);
      push(free.cold, stack);
    }
  }

 private:
  // A stack lost for want of memory to remember it is only a leak.
  static void push(std::vector<Stack>& list, Stack stack) noexcept {
    try {
      list.push_back(stack);
    } catch (const std::bad_alloc&) {
    }
  }

  Stack map_guarded(std::size_t size) {
    const std::size_t page = StackPool::page_size();
    auto* memory = static_cast<std::byte*>(map_or_throw(size + page));
    if (::mprotect(memory, page, PROT_NONE) != 0) {
      ::munmap(memory, size + page);
      throw std::bad_alloc();
    }
    ++guarded_live_;
    return Stack{memory + page, size, true};
  }

  Stack carve(std::size_t size) {
    auto& slab = slabs_[size];
    if (slab.next == slab.end) {
      const std::size_t length = size * kSlabStacks;
      slab.next = static_cast<std::byte*>(map_or_throw(length));
      slab.end = slab.next + length;
    }
    Stack stack{slab.next, size, false};
    slab.next += size;
    return stack;
  }

  struct Slab {
    std::byte* next = nullptr;
    std::byte* end = nullptr;
  };

  std::mutex mutex_;
  std::unordered_map<std::size_t, FreeStacks> free_;
  std::unordered_map<std::size_t, Slab> slabs_;
  std::size_t guarded_live_ = 0;
  const std::size_t guarded_budget_ = read_max_map_count() / 4;
};

Pool& pool() {
  static Pool* instance = new Pool();  // outlives every thread's greenlets
  return *instance;
}

}  // namespace

bool Stack::overflowed_at(const void* address) const noexcept {
  const auto* at = static_cast<const std::byte*>(address);
  const std::size_t below = guarded ? StackPool::page_size() : 0;
  return at >= base - below && at < base + (guarded ? 0 : kCanaryBytes);
}

StackPool& StackPool::instance() {
  static StackPool facade;
  return facade;
}

std::size_t StackPool::page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

std::size_t StackPool::usable_size(std::size_t size) {
  const std::size_t page = page_size();
  // The stack and its guard page must fit in the addresses mmap() hands out
  // without a hint; this also keeps every sum or product the pool makes of
  // a size (a slab) from wrapping.
  if (size > kMappableBytes - 2 * page) {
    throw ValueError("greenlet stack size " + std::to_string(size) + " is too large");
  }
  return (std::max(size, 4 * page) + page - 1) / page * page;
}

Stack StackPool::allocate(std::size_t size) { return pool().allocate(usable_size(size)); }

void StackPool::release(Stack stack) noexcept {
  if (stack) pool().release(stack);
}

bool StackPool::canary_intact(const Stack& stack) noexcept {
  // Fresh and cooled pages read as zeros; only an overflow writes there.
  for (std::size_t i = 0; i < kCanaryBytes; ++i) {
    if (stack.base[i] != std::byte{0}) return false;
  }
  return true;
}

}  // namespace weft::green::detail
