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

// `d` in nanoseconds, rounded up. A duration beyond what nanoseconds hold
// (about 292 years) saturates to nanoseconds::max() (or min()), which every
// wait treats as forever (or as 0), rather than wrapping around as
// std::chrono's conversions do.
template <class Rep, class Period>
constexpr std::chrono::nanoseconds ceil_nanoseconds_saturated(std::chrono::duration<Rep, Period> d) {
  using std::chrono::nanoseconds;
  using Seconds = std::chrono::duration<double>;
  const auto seconds = std::chrono::duration_cast<Seconds>(d);
  if (seconds >= std::chrono::duration_cast<Seconds>(nanoseconds::max())) return nanoseconds::max();
  if (seconds <= std::chrono::duration_cast<Seconds>(nanoseconds::min())) return nanoseconds::min();
  return std::chrono::ceil<nanoseconds>(d);
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
