// What the tests of the aio synchronisation primitives and queues share: a
// fixture that checks no coroutine frame leaks, and ways to let the other
// tasks of the loop run without any clock.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <utility>

#include "aio/leak_checked_test.hpp"
#include "weft/asyncio.hpp"

namespace weft::aio::testing {

class SyncTest : public LeakCheckedTest<::testing::Test> {
 protected:
  template <class T>
  static T run(Task<T> coro) {
    return aio::run(std::move(coro));
  }
};

// Lets every task that is ready now run (to its next suspension): the
// caller resumes after them, in the next batch.
inline SleepAwaiter yield() noexcept { return sleep(std::chrono::nanoseconds(0)); }

// Yields until done() holds; fails the test if it does not within 1000
// batches (a task that should have got there is stuck).
template <class Done>
Task<void> until(Done done) {
  for (int batches = 0; !done(); ++batches) {
    if (batches == 1000) {
      ADD_FAILURE() << "the awaited state never came about";
      co_return;
    }
    co_await yield();
  }
}

}  // namespace weft::aio::testing
