// aio::Semaphore: the checks of construction and release.
#include "weft/aio/semaphore.hpp"

#include "weft/errors.hpp"

namespace weft::aio {

Semaphore::Semaphore(long long value, long long bound) : value_(value), bound_(bound) {
  if (value < 0) throw ValueError("Semaphore initial value must be >= 0");
}

void Semaphore::throw_over_release() const {
  if (bound_ == kUnbounded) throw ValueError("Semaphore value overflows");
  throw ValueError("BoundedSemaphore released too many times");
}

}  // namespace weft::aio
