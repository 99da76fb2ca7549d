// weft/detail/deadline.hpp — turning Python-style timeouts into absolute
// deadlines on the monotonic clock, so that every timed wait is immune to
// wall-clock jumps and a wait that wakes spuriously keeps its original limit.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <type_traits>

#include "weft/errors.hpp"

namespace weft::detail {

using Clock = std::chrono::steady_clock;

// No value means "wait forever".
using Deadline = std::optional<Clock::time_point>;

// Python treats a negative timeout two ways, and weft follows it call by
// call. queue.Queue, threading.Lock/RLock and socket.settimeout refuse one
// (deadline_after). Condition, Event, Semaphore and Barrier waits, joins,
// futures, and multiprocessing's locks and queues count it as 0
// (deadline_after_clamped). Every one of them refuses a NaN timeout, as
// Python does, rather than guess what it means.

// Throws ValueError, with Python's message, if `d` is NaN.
template <class Rep, class Period>
constexpr void reject_nan(std::chrono::duration<Rep, Period> d) {
  if constexpr (std::is_floating_point_v<Rep>) {
    if (std::isnan(d.count())) throw ValueError("Invalid value NaN (not a number)");
  }
}

// The deadline `timeout` from now. Durations too large to represent saturate
// to "forever". Throws ValueError for a negative or NaN timeout.
template <class Rep, class Period>
Deadline deadline_after(std::chrono::duration<Rep, Period> timeout) {
  reject_nan(timeout);
  if (timeout < timeout.zero()) throw ValueError("timeout must be a non-negative duration");
  const auto now = Clock::now();
  const auto room = Clock::time_point::max() - now;
  if (std::chrono::duration_cast<std::chrono::duration<double>>(timeout) >=
      std::chrono::duration_cast<std::chrono::duration<double>>(room))
    return std::nullopt;
  return now + std::chrono::ceil<Clock::duration>(timeout);
}

// Like deadline_after, but a negative timeout means "do not wait" (also the
// C++ standard library's convention) rather than an error. Throws
// ValueError for a NaN timeout.
template <class Rep, class Period>
Deadline deadline_after_clamped(std::chrono::duration<Rep, Period> timeout) {
  if (timeout < timeout.zero()) return Clock::now();
  return deadline_after(timeout);
}

// `d` in nanoseconds, rounded up. A duration beyond what nanoseconds hold
// (about 292 years) saturates to nanoseconds::max() (or min()), which every
// wait treats as forever (or as 0), rather than wrapping around as
// std::chrono's conversions do. Throws ValueError if `d` is NaN.
template <class Rep, class Period>
constexpr std::chrono::nanoseconds ceil_nanoseconds_saturated(std::chrono::duration<Rep, Period> d) {
  using std::chrono::nanoseconds;
  reject_nan(d);
  using Seconds = std::chrono::duration<double>;
  const auto seconds = std::chrono::duration_cast<Seconds>(d);
  if (seconds >= std::chrono::duration_cast<Seconds>(nanoseconds::max())) return nanoseconds::max();
  if (seconds <= std::chrono::duration_cast<Seconds>(nanoseconds::min())) return nanoseconds::min();
  return std::chrono::ceil<nanoseconds>(d);
}

// Converts an absolute time on any clock to a deadline on the monotonic clock.
// A time too far ahead to represent (time_point<C, hours>::max()) means
// "forever"; one already past, "do not wait". Throws ValueError for a NaN
// time.
template <class C, class D>
Deadline deadline_at(std::chrono::time_point<C, D> when) {
  using Seconds = std::chrono::duration<double>;
  if constexpr (std::is_same_v<C, Clock>) {
    const auto since_epoch = ceil_nanoseconds_saturated(when.time_since_epoch());
    if (since_epoch == std::chrono::nanoseconds::max()) return std::nullopt;
    return std::max(Clock::time_point(since_epoch), Clock::now());
  } else {
    const auto now = C::now();
    // when - now is exact, but overflows if either is too far from C's
    // epoch for the duration they share; then it is computed in double,
    // whose rounding does not matter that far away.
    using Common = std::common_type_t<D, typename C::duration>;
    const Seconds half_range = std::chrono::duration_cast<Seconds>(Common::max()) / 2;
    const Seconds when_s = std::chrono::duration_cast<Seconds>(when.time_since_epoch());
    const Seconds now_s = std::chrono::duration_cast<Seconds>(now.time_since_epoch());
    if (std::chrono::abs(when_s) < half_range && std::chrono::abs(now_s) < half_range)
      return deadline_after_clamped(when - now);
    return deadline_after_clamped(when_s - now_s);
  }
}

inline bool expired(const Deadline& deadline) { return deadline && Clock::now() >= *deadline; }

}  // namespace weft::detail
