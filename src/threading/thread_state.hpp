// What weft knows of one thread, shared by its Thread object, its handles,
// the registry and the thread itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace weft::detail {

struct ThreadState {
  std::string name;  // under names_mutex()
  bool daemon = false;
  // Set when the thread runs a Thread subclass's run() on its object, which
  // must then stay alive until the thread ends.
  bool runs_object = false;
  std::atomic<bool> started{false};
  std::atomic<std::uint64_t> ident{0};
  std::atomic<std::int64_t> native_id{0};
  std::atomic<std::uint32_t> native_id_ready{0};  // futex word
  std::atomic<std::uint32_t> finished{0};         // futex word
};

// Guards every thread's name. One for the process, held by the forking
// thread across fork(), so that a child never inherits it locked by a
// thread that did not follow it there (thread.cpp).
std::mutex& names_mutex() noexcept;

// Frees the calling thread's weft::local values (local.cpp).
void release_thread_locals() noexcept;

}  // namespace weft::detail
