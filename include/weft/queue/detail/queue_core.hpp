// weft/queue/detail/queue_core.hpp — the engine of LifoQueue and
// PriorityQueue: Python's queue.Queue algorithm (one mutex, not_empty and
// not_full conditions, 3.13 shutdown) on weft's futex mutex and FIFO wait
// queues. (Queue<T> has a two-lock engine of its own: fifo_core.hpp; a
// manager's queue is this one over a FifoStore, for put_back.)
//
// Wake-ups are handed out one per item and made after the mutex is
// released, and only to waiters that really sleep, so a busy queue makes
// no system calls at all.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/errors.hpp"
#include "weft/queue/detail/task_counter.hpp"
#include "weft/queue/errors.hpp"

namespace weft::detail {

template <class T, class Store>
class QueueCore {
 public:
  explicit QueueCore(std::size_t maxsize) : maxsize_(maxsize) {
    store_.reserve(maxsize == 0 ? 16 : std::min<std::size_t>(maxsize, 1024));
  }
  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  // Moves from `item` only if it was enqueued. Returns false when the queue
  // stayed full (non-blocking, or the deadline passed). Throws ShutDown.
  bool put(T& item, bool block, const Deadline& deadline) {
    Held held(mutex_);
    if (shutdown_) throw ShutDown();
    while (maxsize_ != 0 && store_.size() >= maxsize_) {
      if (!block) return false;
      const bool notified = wait(not_full_, deadline);
      if (shutdown_) throw ShutDown();
      if (!notified && store_.size() >= maxsize_) return false;
    }
    store_.push(std::move(item));
    tasks_.add();
    const WaitQueue::PendingWake wake = not_empty_.notify_one();
    held.unlock();
    WaitQueue::wake(wake);
    return true;
  }

  // Puts back, at the end, an item get() returned to a taker that could not
  // have it: past maxsize and after shutdown(false), without adding a task
  // (the item's was added when it was first put and is still unfinished).
  // After shutdown(true) the item is discarded and its task retired, as
  // that shutdown did with the items it found. Never blocks.
  void put_back(T& item) {
    Held held(mutex_);
    if (discarding_) {
      tasks_.retire(1);
      return;
    }
    store_.push(std::move(item));
    const WaitQueue::PendingWake wake = not_empty_.notify_one();
    held.unlock();
    WaitQueue::wake(wake);
  }

  // Returns nothing when the queue stayed empty (non-blocking, or the
  // deadline passed). Throws ShutDown once shut down and empty.
  std::optional<T> get(bool block, const Deadline& deadline) {
    Held held(mutex_);
    while (store_.empty()) {
      if (shutdown_) throw ShutDown();
      if (!block) return std::nullopt;
      const bool notified = wait(not_empty_, deadline);
      if (!notified && store_.empty()) {
        if (shutdown_) throw ShutDown();
        return std::nullopt;
      }
    }
    std::optional<T> item(std::in_place, store_.pop());
    const WaitQueue::PendingWake wake = not_full_.notify_one();
    held.unlock();
    WaitQueue::wake(wake);
    return item;
  }

  void task_done() { tasks_.done(); }
  bool join(const Deadline& deadline) { return tasks_.join(deadline); }

  void shutdown(bool immediate) {
    std::vector<T> discarded;
    {
      Held held(mutex_);
      shutdown_ = true;
      if (immediate) {
        discarding_ = true;
        discarded.reserve(store_.size());
        while (!store_.empty()) discarded.push_back(store_.pop());
        tasks_.retire(discarded.size());
      }
      not_empty_.notify_all();
      not_full_.notify_all();
    }
    // `discarded` dies here, outside the lock, in case T's destructor
    // touches the queue.
  }

  std::size_t qsize() const {
    Held held(mutex_);
    return store_.size();
  }
  bool full() const {
    Held held(mutex_);
    return maxsize_ != 0 && store_.size() >= maxsize_;
  }
  bool is_shutdown() const {
    Held held(mutex_);
    return shutdown_;
  }
  std::size_t unfinished_tasks() const noexcept { return tasks_.unfinished(); }
  std::size_t maxsize() const noexcept { return maxsize_; }

 private:
  using Held = std::unique_lock<FutexMutex>;

  bool wait(WaitQueue& queue, const Deadline& deadline) {
    return queue.wait(deadline, [this] { mutex_.unlock(); }, [this] { mutex_.lock(); });
  }

  mutable FutexMutex mutex_;
  WaitQueue not_empty_;
  WaitQueue not_full_;
  TaskCounter tasks_;
  Store store_;
  const std::size_t maxsize_;
  bool shutdown_ = false;
  bool discarding_ = false;  // shut down with immediate
};

}  // namespace weft::detail
