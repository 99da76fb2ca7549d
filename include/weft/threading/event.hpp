// weft/threading/event.hpp — weft::Event, Python's threading.Event.
//
// A flag that threads wait on: wait() blocks until set() is called (or
// returns at once if it already was); clear() lowers it again. Any number
// of threads may wait; set() wakes them all.
//
// Thread-safety: all members may be called concurrently from any thread.
// Not copyable or movable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "weft/detail/deadline.hpp"

namespace weft {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return (word_.load(std::memory_order_acquire) & kSet) != 0; }

  // Raises the flag and wakes every waiter. Never blocks.
  void set() noexcept;
  // Lowers the flag. Never blocks.
  void clear() noexcept { word_.fetch_and(~kSet, std::memory_order_relaxed); }

  // Blocks until the flag is raised; returns true.
  bool wait() { return is_set() || wait_until(std::nullopt); }
  // Blocks at most `timeout`; returns the flag (false on timeout). Throws
  // ValueError for a negative timeout.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return is_set() || wait_until(detail::deadline_after(timeout));
  }

 private:
  static constexpr std::uint32_t kSet = 1;
  static constexpr std::uint32_t kHasWaiters = 2;

  bool wait_until(const detail::Deadline& deadline);

  std::atomic<std::uint32_t> word_{0};
};

}  // namespace weft
