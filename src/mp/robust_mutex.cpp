// RobustMutex over a process-shared, robust pthread mutex.
#include "weft/mp/detail/robust_mutex.hpp"

#include <linux/futex.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <system_error>

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define WEFT_ROBUST_MUTEX_TSAN 1
#endif

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

// ThreadSanitizer does not intercept pthread_mutex_clocklock: it is told of
// the acquisition here, or it would report the unlock as one of an unlocked
// mutex.
int clock_lock(pthread_mutex_t* mutex, const timespec& until) {
#if defined(WEFT_ROBUST_MUTEX_TSAN)
  __tsan_mutex_pre_lock(mutex, __tsan_mutex_try_lock);
  const int result = pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &until);
  const bool acquired = result == 0 || result == EOWNERDEAD;
  const unsigned failed = acquired ? 0 : __tsan_mutex_try_lock_failed;
  __tsan_mutex_post_lock(mutex, __tsan_mutex_try_lock | failed, 0);
  return result;
#else
  return pthread_mutex_clocklock(mutex, CLOCK_MONOTONIC, &until);
#endif
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

bool RobustMutex::held_by(std::int32_t tid) const noexcept {
  // glibc keeps a robust mutex's futex word in __data.__lock.
  const int word = __atomic_load_n(&mutex_.__data.__lock, __ATOMIC_RELAXED);
  return (word & FUTEX_TID_MASK) == tid;
}

RobustMutex::Locked RobustMutex::lock(const weft::detail::Deadline& deadline) {
  if (!deadline) return settle(pthread_mutex_lock(&mutex_));
  const timespec until = monotonic_timespec(*deadline);
  return settle(clock_lock(&mutex_, until));
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
