// weft/threading/event.hpp — weft::Event, Python's threading.Event.
//
// A flag that threads wait on: wait() blocks until set() is called (or
// returns at once if it already was); clear() lowers it again. Any number
// of threads may wait; set() wakes them all, and each returns true even if
// a clear() came before it woke, as in Python.
//
// Thread-safety: all members may be called concurrently from any thread.
// Not copyable or movable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/event_word.hpp"

namespace weft {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return detail::event_word::is_set(word_); }

  // Raises the flag and wakes every waiter. Never blocks.
  void set() noexcept { detail::event_word::set(word_, detail::FutexScope::process_private); }
  // Lowers the flag. Never blocks.
  void clear() noexcept { detail::event_word::clear(word_); }

  // Blocks until the flag is raised; returns true.
  bool wait() { return is_set() || wait_until(std::nullopt); }
  // Blocks at most `timeout`; returns true unless it timed out. A
  // negative timeout counts as 0 (Python's rule); a NaN one throws
  // ValueError.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return is_set() || wait_until(detail::deadline_after_clamped(timeout));
  }

 private:
  bool wait_until(const detail::Deadline& deadline) {
    return detail::event_word::wait_until(word_, deadline, detail::FutexScope::process_private);
  }

  std::atomic<std::uint32_t> word_{0};
};

}  // namespace weft
