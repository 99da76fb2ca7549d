// tools/weft/load/run_control.hpp — what the thread driving a load run and
// its client threads share: the current phase, the budget of requests left
// to count, and the two rendezvous the driver waits for (every client
// thread has finished connecting; every client thread has stopped counting).
//
// The phase only moves forward: connect → warmup → measure → stop. The
// driver advances it; client threads poll it once per epoll iteration (and
// wait on it while connected but not yet started).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace weft::tool {

enum class RunPhase : int { connect, warmup, measure, stop };

// Nanoseconds on std::chrono::steady_clock (CLOCK_MONOTONIC, read through
// the vDSO: no system call). Every timestamp of a run is on this clock.
inline std::uint64_t monotonic_ns() noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(
          std::chrono::steady_clock::now().time_since_epoch())
          .count());
}

class RunControl {
 public:
  RunControl(int threads, std::int64_t request_budget, bool limited) noexcept
      : threads_(threads), budget_(request_budget), limited_(limited) {}

  RunPhase phase() const noexcept { return phase_.load(std::memory_order_acquire); }

  // Driver: moves to `next` and wakes every client thread waiting for it.
  void advance(RunPhase next) noexcept {
    phase_.store(next, std::memory_order_release);
    phase_.notify_all();
  }

  // Client thread: blocks until the phase is no longer `current`.
  void wait_while(RunPhase current) const noexcept { phase_.wait(current, std::memory_order_acquire); }

  bool limited() const noexcept { return limited_; }

  // Client thread: takes up to `wanted` requests from the budget; returns
  // how many it got (0 once the budget is spent). Thread-safe.
  std::int64_t claim(std::int64_t wanted) noexcept {
    std::int64_t left = budget_.load(std::memory_order_relaxed);
    while (left > 0) {
      const std::int64_t take = left < wanted ? left : wanted;
      if (budget_.compare_exchange_weak(left, left - take, std::memory_order_relaxed)) return take;
    }
    return 0;
  }

  // Client thread: reports it has finished connecting / stopped counting.
  // Each is called once per client thread.
  void report_connected() { bump(connected_); }
  void report_finished() { bump(finished_); }

  // Driver: waits until every client thread has reported, or `deadline`.
  // Returns whether they all had.
  template <class Clock, class Duration>
  bool wait_all_connected(std::chrono::time_point<Clock, Duration> deadline) {
    return wait_for_count(connected_, deadline);
  }
  template <class Clock, class Duration>
  bool wait_all_finished(std::chrono::time_point<Clock, Duration> deadline) {
    return wait_for_count(finished_, deadline);
  }

 private:
  void bump(int& counter) {
    {
      std::lock_guard lock(mutex_);
      ++counter;
    }
    changed_.notify_all();
  }
  template <class Clock, class Duration>
  bool wait_for_count(const int& counter, std::chrono::time_point<Clock, Duration> deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return counter >= threads_; });
  }

  const int threads_;
  std::atomic<RunPhase> phase_{RunPhase::connect};
  std::atomic<std::int64_t> budget_;
  const bool limited_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int connected_ = 0;
  int finished_ = 0;
};

}  // namespace weft::tool
