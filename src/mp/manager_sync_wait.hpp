// How a manager's synchronisation objects block: a timeout arrives as
// optional seconds, and every wait runs in short slices so that it ends
// soon after its client hangs up, or the manager begins to stop, instead
// of holding a server thread for ever. A wait ended so throws
// ManagerGoneError rather than returning a plausible "timed out": nobody
// hears it if the client is gone, and a client whose manager is stopping
// learns exactly that.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/mp/manager/managed.hpp"
#include "weft/mp/manager/proxy.hpp"

namespace weft::mp::manager::detail {

// How long a wait blocks before it looks at its client again.
inline constexpr std::chrono::milliseconds kWaitSlice{50};

// What a negative timeout means, object by object as in Python: its Lock,
// RLock and Queue refuse one; its Event, Condition, Semaphore and Barrier
// count it as 0.
enum class NegativeTimeout { refused, counts_as_zero };

// The deadline of a wire timeout: none waits for ever. Throws ValueError
// for a NaN timeout, and for a negative one that `negative` refuses.
inline weft::detail::Deadline deadline_for(std::optional<double> seconds, NegativeTimeout negative) {
  if (!seconds) return std::nullopt;
  if (std::isnan(*seconds)) throw ValueError("timeout must be a number");
  if (*seconds < 0) {
    if (negative == NegativeTimeout::refused) throw ValueError("timeout must be a non-negative number");
    return weft::detail::Clock::now();
  }
  return weft::detail::deadline_after(std::chrono::duration<double>(*seconds));
}

// Throws ManagerGoneError if the caller is gone (or the manager stopping).
inline void require_connected(const Caller& caller) {
  if (!caller.connected()) {
    throw ManagerGoneError("the call was abandoned: its client hung up or the manager is stopping");
  }
}

// Calls attempt(slice) — a wait of at most `slice` returning something
// truthy on success — until it succeeds or `deadline` passes; returns the
// last result. Throws ManagerGoneError when the caller hangs up first.
template <class Attempt>
auto wait_in_slices(Caller& caller, const weft::detail::Deadline& deadline, Attempt&& attempt)
    -> decltype(attempt(std::chrono::nanoseconds{})) {
  for (;;) {
    std::chrono::nanoseconds slice = kWaitSlice;
    if (deadline) {
      slice = std::clamp<std::chrono::nanoseconds>(*deadline - weft::detail::Clock::now(),
                                                   std::chrono::nanoseconds::zero(), slice);
    }
    auto result = attempt(slice);
    if (result || weft::detail::expired(deadline)) return result;
    require_connected(caller);
  }
}

// Python's (block, timeout) pair: without `block`, one attempt that does
// not wait (the timeout is ignored, as Queue.get does); with it, a sliced
// wait bounded by `timeout`.
template <class Attempt>
auto wait_for(Caller& caller, bool block, std::optional<double> timeout, NegativeTimeout negative,
              Attempt&& attempt) -> decltype(attempt(std::chrono::nanoseconds{})) {
  if (!block) return attempt(std::chrono::nanoseconds::zero());
  return wait_in_slices(caller, deadline_for(timeout, negative), attempt);
}

}  // namespace weft::mp::manager::detail
