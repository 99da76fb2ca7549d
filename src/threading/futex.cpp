#include "weft/detail/futex.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <ctime>

namespace weft::detail {
namespace {

int op_for(int op, FutexScope scope) {
  return scope == FutexScope::process_private ? (op | FUTEX_PRIVATE_FLAG) : op;
}

timespec to_timespec(Clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nsecs = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  return timespec{static_cast<time_t>(secs.count()), static_cast<long>(nsecs.count())};
}

}  // namespace

bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected, const Deadline& deadline,
                FutexScope scope) noexcept {
  static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
  timespec abs{};
  const timespec* timeout = nullptr;
  if (deadline) {
    abs = to_timespec(*deadline);
    timeout = &abs;
  }
  // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, which is the
  // clock behind std::chrono::steady_clock on Linux.
  const long rc = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word),
                            op_for(FUTEX_WAIT_BITSET, scope), expected, timeout, nullptr,
                            FUTEX_BITSET_MATCH_ANY);
  if (rc == 0) return true;
  return errno != ETIMEDOUT;
}

void futex_wake(std::atomic<std::uint32_t>& word, int count, FutexScope scope) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op_for(FUTEX_WAKE, scope), count,
            nullptr, nullptr, 0);
}

}  // namespace weft::detail
