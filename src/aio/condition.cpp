// aio::Condition: wait() with Python's re-acquire-even-when-cancelled rule,
// and notify().
#include "weft/aio/condition.hpp"

#include <exception>

#include "weft/aio/errors.hpp"

namespace weft::aio {

Task<void> Condition::wait() {
  if (!locked()) throw RuntimeError("cannot wait on un-acquired lock");
  release();
  std::exception_ptr failure;
  bool notified = false;
  {
    auto waiter = waiters_.wait();
    try {
      co_await waiter;
    } catch (...) {
      failure = std::current_exception();
    }
    notified = waiter.woken();
  }
  // The lock is taken again whatever happened; a cancellation that arrives
  // meanwhile is kept (the latest one wins) and raised once it is held.
  for (;;) {
    try {
      co_await lock_.acquire();
      break;
    } catch (const CancelledError&) {
      failure = std::current_exception();
    }
  }
  if (failure) {
    if (notified) wake(1);
    std::rethrow_exception(failure);
  }
}

void Condition::notify(std::size_t n) {
  if (!locked()) throw RuntimeError("cannot notify on un-acquired lock");
  wake(n);
}

void Condition::wake(std::size_t n) noexcept {
  for (; n > 0 && waiters_.notify_one(); --n) {
  }
}

}  // namespace weft::aio
