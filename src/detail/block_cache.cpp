// The block cache behind weft::detail::CachedAllocator.
#include "weft/detail/block_cache.hpp"

#include <array>
#include <mutex>
#include <vector>

namespace weft::detail {
namespace {

constexpr std::array<std::size_t, 4> kClassBytes = {64, 128, 256, 512};
constexpr std::size_t kClasses = kClassBytes.size();
constexpr std::size_t kMagazine = 64;           // blocks a thread keeps per class
constexpr std::size_t kDepotMagazines = 64;     // full magazines the depot keeps per class

// The size class for `bytes`, or kClasses if it is too large.
std::size_t class_of(std::size_t bytes) noexcept {
  std::size_t c = 0;
  while (c < kClasses && kClassBytes[c] < bytes) ++c;
  return c;
}

using Magazine = std::vector<void*>;

// Full magazines shared by all threads. Never destroyed: threads may free
// blocks while static objects are torn down.
struct Depot {
  std::mutex mutex;
  std::array<std::vector<Magazine>, kClasses> full;
};

Depot& depot() {
  static Depot* instance = new Depot;
  return *instance;
}

struct ThreadMagazines {
  std::array<Magazine, kClasses> loaded;

  ~ThreadMagazines() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      if (!loaded[c].empty()) hand_in(c);
    }
  }

  void* take(std::size_t c) {
    Magazine& mine = loaded[c];
    if (mine.empty()) {
      std::lock_guard held(depot().mutex);
      auto& full = depot().full[c];
      if (!full.empty()) {
        mine.swap(full.back());
        full.pop_back();
      }
    }
    if (mine.empty()) return ::operator new(kClassBytes[c]);
    void* block = mine.back();
    mine.pop_back();
    return block;
  }

  void give(std::size_t c, void* block) {
    Magazine& mine = loaded[c];
    if (mine.size() == kMagazine) hand_in(c);
    if (mine.capacity() < kMagazine) mine.reserve(kMagazine);
    mine.push_back(block);
  }

  // Passes this thread's magazine of class c to the depot (or, if the depot
  // is full, back to the system).
  void hand_in(std::size_t c) {
    Magazine& mine = loaded[c];
    {
      std::lock_guard held(depot().mutex);
      auto& full = depot().full[c];
      if (full.size() < kDepotMagazines) {
        full.push_back(std::move(mine));
        mine = Magazine();
        return;
      }
    }
    for (void* block : mine) ::operator delete(block);
    mine.clear();
  }
};

thread_local ThreadMagazines t_magazines;

}  // namespace


// Under AddressSanitizer every block goes back to the system, so that a use
// after free is caught rather than hidden by recycling.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kRecycle = false;
#else
constexpr bool kRecycle = true;
#endif

void* cached_allocate(std::size_t bytes) {
  const std::size_t c = kRecycle ? class_of(bytes) : kClasses;
  return c == kClasses ? ::operator new(bytes) : t_magazines.take(c);
}

void cached_deallocate(void* block, std::size_t bytes) noexcept {
  const std::size_t c = kRecycle ? class_of(bytes) : kClasses;
  if (c == kClasses) {
    ::operator delete(block);
    return;
  }
  try {
    t_magazines.give(c, block);
  } catch (...) {
    ::operator delete(block);
  }
}

}  // namespace weft::detail
