// The timeout poll(2) takes, from a weft deadline.
#pragma once

#include <chrono>
#include <climits>

#include "weft/detail/deadline.hpp"

namespace weft::mp::detail {

// The milliseconds poll(2) should wait to reach `deadline`: -1 for
// forever, rounded up so that a wait never ends before its deadline, at
// most INT_MAX.
inline int poll_timeout_ms(const weft::detail::Deadline& deadline) {
  if (!deadline) return -1;
  const auto left = *deadline - weft::detail::Clock::now();
  if (left <= left.zero()) return 0;
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace weft::mp::detail
