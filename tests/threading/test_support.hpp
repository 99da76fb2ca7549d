// Shared test helpers: patience limits, timing checks, stress scaling, waiting for a sleeper.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <utility>

namespace weft::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How long a test waits for something it expects to happen before declaring failure.
inline constexpr auto kPatience = 10s;
// A timeout whose expiry a test measures.
inline constexpr auto kTick = 50ms;
// Allowed lateness of a timed wait that must expire (scheduling, sanitizers).
inline constexpr auto kSlack = 2s;
// Allowed earliness of a timed wait (clock granularity).
inline constexpr auto kEarly = 1ms;

// ThreadSanitizer runs several times slower: stress tests divide their sizes by this.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define WEFT_TEST_UNDER_TSAN
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(WEFT_TEST_UNDER_TSAN)
inline constexpr int kStressDivisor = 4;
#else
inline constexpr int kStressDivisor = 1;
#endif

constexpr int scaled(int n) { return n / kStressDivisor > 0 ? n / kStressDivisor : 1; }

class Stopwatch {
 public:
  Clock::duration elapsed() const { return Clock::now() - start_; }

 private:
  Clock::time_point start_ = Clock::now();
};

// True if `elapsed` is what a wait of `timeout` that expired should take.
template <class D>
bool expired_after(Clock::duration elapsed, D timeout) {
  return elapsed >= timeout - kEarly && elapsed <= timeout + kSlack;
}

// Polls pred() until it holds or `limit` passes; returns its last value.
template <class Pred>
bool eventually(Pred pred, Clock::duration limit = kPatience) {
  const auto deadline = Clock::now() + limit;
  while (!pred()) {
    if (Clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// Runs f() on a new thread and returns what it returned; the caller waits at most kPatience
// before reporting a failure (and then still waits for f, which must itself be bounded).
template <class F>
auto on_other_thread(F f) {
  auto result = std::async(std::launch::async, std::move(f));
  if (result.wait_for(kPatience) != std::future_status::ready) ADD_FAILURE() << "thread overran";
  return result.get();
}

// Lets a test wait until another thread is asleep in the kernel, i.e. parked in the blocking call
// it was about to make. The other thread calls arm() just before blocking.
class SleepProbe {
 public:
  void arm() noexcept { tid_.store(::gettid(), std::memory_order_release); }

  // Waits until the armed thread is in state S (sleeping); false if that never happened.
  bool wait_asleep(Clock::duration limit = kPatience) const {
    return eventually([this] { return armed() && state() == 'S'; }, limit);
  }

 private:
  bool armed() const noexcept { return tid_.load(std::memory_order_acquire) != 0; }

  char state() const {
    std::ifstream stat("/proc/self/task/" + std::to_string(tid_.load(std::memory_order_acquire)) +
                       "/stat");
    std::string line;
    std::getline(stat, line);
    const auto paren = line.rfind(')');
    return paren == std::string::npos || paren + 2 >= line.size() ? '?' : line[paren + 2];
  }

  std::atomic<pid_t> tid_{0};
};

}  // namespace weft::test
