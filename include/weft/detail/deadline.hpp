// weft/detail/deadline.hpp — turning Python-style timeouts into absolute
// deadlines on the monotonic clock, so that every timed wait is immune to
// wall-clock jumps and a wait that wakes spuriously keeps its original limit.
#pragma once

#include <chrono>
#include <optional>

#include "weft/errors.hpp"

namespace weft::detail {

using Clock = std::chrono::steady_clock;

// No value means "wait forever".
using Deadline = std::optional<Clock::time_point>;

// Python treats a negative timeout two ways, and weft follows it call by
// call. queue.Queue, threading.Lock/RLock and socket.settimeout refuse one
// (deadline_after). Condition, Event, Semaphore and Barrier waits, joins,
// futures, and multiprocessing's locks and queues count it as 0
// (deadline_after_clamped).

// The deadline `timeout` from now. Durations too large to represent saturate
// to "forever". Throws ValueError for a negative timeout.
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> timeout) {
  if (timeout < timeout.zero()) throw ValueError("timeout must be a non-negative duration");
  const auto now = Clock::now();
  const auto room = Clock::time_point::max() - now;
  if (std::chrono::duration_cast<std::chrono::duration<double>>(timeout) >=
      std::chrono::duration_cast<std::chrono::duration<double>>(room))
    return std::nullopt;
  return now + std::chrono::ceil<Clock::duration>(timeout);
}

// Like deadline_after, but a negative timeout means "do not wait" (also the
// C++ standard library's convention) rather than an error.
template <class Rep, class Period>
Deadline deadline_after_clamped(std::chrono::duration<Rep, Period> timeout) {
  if (timeout < timeout.zero()) return Clock::now();
  return deadline_after(timeout);
}

// Converts an absolute time on any clock to a deadline on the monotonic clock.
template <class C, class D>
Deadline deadline_at(std::chrono::time_point<C, D> when) {
  if constexpr (std::is_same_v<C, Clock>) {
    return std::chrono::time_point_cast<Clock::duration>(when);
  } else {
    return deadline_after_clamped(when - C::now());
  }
}

inline bool expired(const Deadline& deadline) { return deadline && Clock::now() >= *deadline; }

}  // namespace weft::detail
