// weft/detail/wait_for_predicate.hpp — the loop of Python's
// Condition.wait_for, shared by the thread and the process conditions.
#pragma once

#include "weft/detail/deadline.hpp"

namespace weft::detail {

// Waits with wait_until(deadline) until pred() is truthy and returns pred()'s
// last value, which is falsy if the deadline passed first (no deadline:
// waits for as long as it takes). Blocks as wait_until does. As in Python,
// a falsy pred() is followed by at least one wait (which lets go of the lock)
// even when the deadline has already passed.
template <class Predicate, class WaitUntil>
auto wait_for_predicate(Predicate& pred, const Deadline& deadline, WaitUntil wait_until)
    -> decltype(pred()) {
  auto result = pred();
  while (!result) {
    wait_until(deadline);
    result = pred();
    if (expired(deadline)) break;
  }
  return result;
}

}  // namespace weft::detail
