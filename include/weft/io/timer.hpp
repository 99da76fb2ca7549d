// weft/io/timer.hpp — a timer an io::Loop fires on its thread.
//
// Like Operation, a Timer is caller-owned storage the loop links into its
// timer heap: scheduling one allocates nothing. Loop::start_timer arms it
// for an absolute time on the monotonic clock; the loop calls the handler
// once, in its timers phase, no earlier than that time. Loop::cancel_timer
// disarms it. Timers due at the same time fire in the order they were armed.
// Not thread-safe: only the loop's thread touches it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace weft::io {

class Loop;
namespace detail {
class TimerHeap;
}

class Timer {
 public:
  using Clock = std::chrono::steady_clock;
  using Handler = void (*)(Timer& timer) noexcept;

  explicit Timer(Handler handler) noexcept : handler_(handler) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  bool scheduled() const noexcept { return heap_index_ != kNotScheduled; }
  Clock::time_point when() const noexcept { return when_; }

 private:
  friend class Loop;
  friend class detail::TimerHeap;
  // 32 bits: a heap of four billion timers is not a heap this loop keeps.
  static constexpr std::uint32_t kNotScheduled = static_cast<std::uint32_t>(-1);

  Handler handler_;
  Clock::time_point when_{};
  std::uint64_t sequence_ = 0;
  std::uint32_t heap_index_ = kNotScheduled;
  bool owned_ = false;  // a call_later timer the loop allocated
};

}  // namespace weft::io
