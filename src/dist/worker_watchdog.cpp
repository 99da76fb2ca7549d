// The watchdog thread.
#include "worker_watchdog.hpp"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "weft/dist/detail/wire.hpp"
#include "weft/dist/errors.hpp"
#include "worker_answer.hpp"

namespace weft::dist::detail {

using weft::detail::Clock;

Watchdog::Watchdog(RedisConnection redis, std::string queue, std::string consumer,
                   std::chrono::milliseconds visibility_timeout)
    : redis_(std::move(redis)),
      queue_(std::move(queue)),
      consumer_(std::move(consumer)),
      claim_interval_(std::max(visibility_timeout / 3, std::chrono::milliseconds(1))),
      thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Watchdog::watch(const TaskEntry& task) {
  std::lock_guard lock(mutex_);
  task_ = &task;
  deadline_ = task.timeout.count() > 0 ? weft::detail::deadline_after(task.timeout) : std::nullopt;
  if (deadline_ && *deadline_ < wake_) changed_.notify_all();
}

void Watchdog::release() {
  std::unique_lock lock(mutex_);
  // The process ends with the watchdog's answer: wait for it.
  changed_.wait(lock, [&] { return !timing_out_; });
  task_ = nullptr;
  deadline_.reset();
}

void Watchdog::run() {
  std::unique_lock lock(mutex_);
  next_claim_ = Clock::now() + claim_interval_;
  while (!quit_) {
    wake_ = deadline_ ? std::min(next_claim_, *deadline_) : next_claim_;
    changed_.wait_until(lock, wake_);
    if (quit_) break;
    const auto now = Clock::now();
    if (deadline_ && now >= *deadline_) {
      timing_out_ = true;
      const TaskEntry& task = *task_;
      lock.unlock();
      time_out(task);
    }
    if (now < next_claim_) continue;  // woken for a time limit that is not yet due
    next_claim_ = now + claim_interval_;
    if (task_ == nullptr) continue;
    const std::string entry_id = task_->entry.id;
    lock.unlock();
    keep_claimed(entry_id);
    lock.lock();
  }
}

void Watchdog::keep_claimed(const std::string& entry_id) {
  try {
    with_reconnect(redis_, [&](RedisConnection& redis) {
      return redis.command({"XCLAIM", tasks_key(queue_), workers_group, consumer_, "0", entry_id, "JUSTID"});
    });
  } catch (const RedisError&) {
    // Redis stays away, or refuses: try again at the next interval.
  }
}

void Watchdog::time_out(const TaskEntry& task) {
  const std::string message = task.description() + " exceeded its time limit of " +
                              std::to_string(task.timeout.count()) + " ms";
  try {
    send_until_delivered(redis_, answer_commands(queue_, task, mp::detail::Outcome::error,
                                                 encode_error(std::make_exception_ptr(TaskTimeoutError(message)))));
  } catch (...) {
    // Unanswered, the task is claimed again after the visibility timeout.
  }
  const std::string report = "weft worker " + std::to_string(::getpid()) + ": " + message + "; exiting\n";
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, report.data(), report.size());
  ::_exit(task_timeout_exit_status);
}

}  // namespace weft::dist::detail
