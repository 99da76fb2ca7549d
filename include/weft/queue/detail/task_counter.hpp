// weft/queue/detail/task_counter.hpp — the unfinished-task count behind
// task_done() and join().
//
// put() adds a task, task_done() retires one, join() waits for zero.
// Retiring the last task takes the joiners' lock only if somebody is
// joining, so a busy queue pays one atomic operation per task.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/errors.hpp"

namespace weft::detail {

class TaskCounter {
 public:
  void add() noexcept { unfinished_.fetch_add(1, std::memory_order_relaxed); }

  // Throws ValueError if there is no unfinished task.
  void done() {
    std::size_t count = unfinished_.load(std::memory_order_relaxed);
    do {
      if (count == 0) throw ValueError("task_done() called too many times");
    } while (!unfinished_.compare_exchange_weak(count, count - 1, std::memory_order_seq_cst,
                                                std::memory_order_relaxed));
    if (count == 1) wake_joiners();
  }

  // Retires up to n tasks without an error (shutdown(immediate=true)).
  void retire(std::size_t n) noexcept {
    std::size_t count = unfinished_.load(std::memory_order_relaxed);
    while (!unfinished_.compare_exchange_weak(count, count > n ? count - n : 0, std::memory_order_seq_cst,
                                              std::memory_order_relaxed)) {
    }
    wake_joiners();
  }

  // Takes back an add() whose item never made it into the queue. Wakes
  // joiners if that leaves no task.
  void retire_quietly(std::size_t n) noexcept {
    if (unfinished_.fetch_sub(n, std::memory_order_seq_cst) == n) wake_joiners();
  }

  // Returns false if the deadline passed with tasks unfinished.
  bool join(const Deadline& deadline) {
    std::unique_lock held(mutex_);
    joining_.fetch_add(1, std::memory_order_seq_cst);
    bool finished = true;
    while (unfinished_.load(std::memory_order_seq_cst) != 0) {
      const bool notified = joiners_.wait(deadline, [this] { mutex_.unlock(); }, [this] { mutex_.lock(); });
      if (!notified && unfinished_.load(std::memory_order_seq_cst) != 0) {
        finished = false;
        break;
      }
    }
    joining_.fetch_sub(1, std::memory_order_relaxed);
    return finished;
  }

  std::size_t unfinished() const noexcept { return unfinished_.load(std::memory_order_relaxed); }

 private:
  void wake_joiners() noexcept {
    if (joining_.load(std::memory_order_seq_cst) == 0) return;
    std::lock_guard held(mutex_);
    joiners_.notify_all();
  }

  std::atomic<std::size_t> unfinished_{0};
  std::atomic<std::size_t> joining_{0};
  FutexMutex mutex_;
  WaitQueue joiners_;
};

}  // namespace weft::detail
