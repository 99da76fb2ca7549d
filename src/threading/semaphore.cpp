// weft::Semaphore's argument checks and release.
#include "weft/threading/semaphore.hpp"

namespace weft {

std::uint32_t Semaphore::checked_initial(long long value) {
  if (value < 0) throw ValueError("semaphore initial value must be >= 0");
  if (value > static_cast<long long>(detail::TicketCounter::kMax))
    throw ValueError("semaphore initial value too large");
  return static_cast<std::uint32_t>(value);
}

void Semaphore::release(std::uint32_t n) {
  if (n == 0) throw ValueError("n must be one or more");
  if (!counter_.give(n, bound_)) {
    if (bound_ != detail::TicketCounter::kMax) throw ValueError("Semaphore released too many times");
    throw ValueError("semaphore value too large");
  }
}

}  // namespace weft
