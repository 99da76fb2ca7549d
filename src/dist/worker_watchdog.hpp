// The watchdog of a worker: a thread with its own Redis connection that,
// while a task runs, keeps the task's entry claimed (XCLAIM ... JUSTID,
// which resets its idle time without counting a delivery, so no other
// worker takes a long task), and enforces the task's time limit: past it,
// the watchdog answers the task with TaskTimeoutError and ends the process
// with status 70.
//
// The thread wakes every visibility_timeout / 3 and claims the task
// running then, if any: a task is claimed again at most two thirds of the
// visibility timeout after it started. Short tasks therefore cost the
// thread nothing; it is woken early only for a time limit that falls
// before its next wake-up.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "weft/detail/deadline.hpp"
#include "weft/dist/redis.hpp"
#include "worker_task.hpp"

namespace weft::dist::detail {

// The exit status of a worker process whose task ran past its time limit.
inline constexpr int task_timeout_exit_status = 70;

class Watchdog {
 public:
  Watchdog(RedisConnection redis, std::string queue, std::string consumer,
           std::chrono::milliseconds visibility_timeout);
  // Stops the thread.
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // `task` starts running now. It must stay alive until release().
  void watch(const TaskEntry& task);
  // The task ended in time: the caller answers it. If its time limit ran
  // out already, the watchdog is answering it and ending the process, and
  // this never returns.
  void release();

 private:
  void run();
  // Resets the idle time of the entry.
  void keep_claimed(const std::string& entry_id);
  [[noreturn]] void time_out(const TaskEntry& task);

  RedisConnection redis_;
  const std::string queue_;
  const std::string consumer_;
  const std::chrono::milliseconds claim_interval_;

  std::mutex mutex_;
  std::condition_variable changed_;
  const TaskEntry* task_ = nullptr;
  weft::detail::Deadline deadline_;
  weft::detail::Clock::time_point next_claim_;
  weft::detail::Clock::time_point wake_;
  bool timing_out_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace weft::dist::detail
