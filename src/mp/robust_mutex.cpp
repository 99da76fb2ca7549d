// RobustMutex over a process-shared, robust pthread mutex.
#include "weft/mp/detail/robust_mutex.hpp"

#include <cerrno>
#include <chrono>
#include <ctime>
#include <system_error>

namespace weft::mp::detail {
namespace {

void check(int result, const char* what) {
  if (result != 0) throw std::system_error(result, std::generic_category(), what);
}

// std::chrono::steady_clock is CLOCK_MONOTONIC on Linux.
timespec monotonic_timespec(weft::detail::Clock::time_point when) {
  const auto since_epoch = when.time_since_epoch();
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - seconds);
  return timespec{static_cast<time_t>(seconds.count()), static_cast<long>(nanoseconds.count())};
}

}  // namespace

RobustMutex::RobustMutex() {
  pthread_mutexattr_t attributes;
  check(pthread_mutexattr_init(&attributes), "pthread_mutexattr_init");
  pthread_mutexattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust(&attributes, PTHREAD_MUTEX_ROBUST);
  const int result = pthread_mutex_init(&mutex_, &attributes);
  pthread_mutexattr_destroy(&attributes);
  check(result, "pthread_mutex_init");
}

RobustMutex::~RobustMutex() { pthread_mutex_destroy(&mutex_); }

RobustMutex::Locked RobustMutex::lock(const weft::detail::Deadline& deadline) {
  if (!deadline) return settle(pthread_mutex_lock(&mutex_));
  const timespec until = monotonic_timespec(*deadline);
  return settle(pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &until));
}

RobustMutex::Locked RobustMutex::try_lock() {
  const int result = pthread_mutex_trylock(&mutex_);
  return result == EBUSY ? Locked::no : settle(result);
}

bool RobustMutex::unlock() noexcept { return pthread_mutex_unlock(&mutex_) == 0; }

RobustMutex::Locked RobustMutex::settle(int result) {
  switch (result) {
    case 0:
      return Locked::yes;
    case ETIMEDOUT:
      return Locked::no;
    case EOWNERDEAD:
      check(pthread_mutex_consistent(&mutex_), "pthread_mutex_consistent");
      return Locked::owner_died;
    default:
      throw std::system_error(result, std::generic_category(), "locking a process-shared mutex");
  }
}

}  // namespace weft::mp::detail
