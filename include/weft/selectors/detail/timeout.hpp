// weft/selectors/detail/timeout.hpp — turning select()'s timeout into a
// deadline, with Python's rules: no timeout blocks, a timeout <= 0 polls,
// a positive one waits at least that long.
#pragma once

#include <chrono>

#include "weft/detail/deadline.hpp"

namespace weft::selectors::detail {

using weft::detail::Clock;
using weft::detail::Deadline;

// A deadline already passed: poll without blocking.
inline constexpr Clock::time_point kPollNow = Clock::time_point::min();

// Throws ValueError for a NaN timeout; durations too long to represent wait
// forever.
template <class Rep, class Period>
Deadline select_deadline(std::chrono::duration<Rep, Period> timeout) {
  weft::detail::reject_nan(timeout);
  if (timeout <= timeout.zero()) return kPollNow;
  return weft::detail::deadline_after(timeout);
}

}  // namespace weft::selectors::detail
