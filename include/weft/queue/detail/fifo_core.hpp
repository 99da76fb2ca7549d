// weft/queue/detail/fifo_core.hpp — the engine of weft::Queue<T>: Python's
// queue.Queue semantics on a two-lock FIFO, so producers and consumers do
// not contend with each other.
//
// Producers push under the tail lock, consumers pop under the head lock.
// Two ticket counters carry the rest: `items_` counts items a consumer may
// take (a getter sleeps on it while it is zero), `slots_` counts free room
// in a bounded queue (a putter sleeps on it while it is zero). Each counter
// spins briefly before sleeping and wakes only real sleepers, so a busy
// queue makes no system calls. shutdown() takes both locks and closes both
// counters, which wakes every blocked putter and getter.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/ticket_counter.hpp"
#include "weft/queue/detail/segmented_fifo.hpp"
#include "weft/queue/detail/task_counter.hpp"
#include "weft/queue/errors.hpp"

namespace weft::detail {

template <class T>
class FifoCore {
 public:
  // A maxsize beyond the counters' range is as good as unbounded.
  explicit FifoCore(std::size_t maxsize)
      : maxsize_(maxsize > TicketCounter::kMax ? 0 : maxsize),
        slots_(static_cast<std::uint32_t>(maxsize_)) {}
  FifoCore(const FifoCore&) = delete;
  FifoCore& operator=(const FifoCore&) = delete;

  // Moves from `item` only if it was enqueued. Returns false when the queue
  // stayed full, which an unbounded queue is when it holds as many items as
  // `items_` can count (2^31 - 1). Throws ShutDown.
  bool put(T& item, bool block, const Deadline& deadline) {
    if (items_.closed()) throw ShutDown();
    if (maxsize_ != 0) {
      switch (take(slots_, block, deadline)) {
        case TicketCounter::Taken::yes: break;
        case TicketCounter::Taken::timed_out: return false;
        case TicketCounter::Taken::closed: throw ShutDown();
      }
    }
    struct SlotBack {
      FifoCore& core;
      bool armed = true;
      ~SlotBack() {
        if (armed && core.maxsize_ != 0) core.slots_.give(1);
      }
    } slot_back{*this};
    std::lock_guard tail(tail_mutex_);
    if (items_.closed()) throw ShutDown();
    // Only the tail lock's holder adds items, so the count cannot grow
    // before the give() below, which therefore succeeds.
    if (items_.count() == TicketCounter::kMax) return false;
    fifo_.push(std::move(item));
    slot_back.armed = false;
    tasks_.add();
    items_.give(1);
    return true;
  }

  // Returns nothing when the queue stayed empty. Throws ShutDown once shut
  // down and empty.
  std::optional<T> get(bool block, const Deadline& deadline) {
    switch (take(items_, block, deadline)) {
      case TicketCounter::Taken::yes: break;
      case TicketCounter::Taken::timed_out: return std::nullopt;
      case TicketCounter::Taken::closed: throw ShutDown();
    }
    std::optional<T> item;
    {
      std::lock_guard head(head_mutex_);
      item.emplace(fifo_.pop());
    }
    if (maxsize_ != 0) slots_.give(1);
    return item;
  }

  void task_done() { tasks_.done(); }
  bool join(const Deadline& deadline) { return tasks_.join(deadline); }

  void shutdown(bool immediate) {
    std::vector<T> discarded;
    {
      std::scoped_lock both(tail_mutex_, head_mutex_);
      items_.close();
      if (immediate) {
        while (items_.try_take()) discarded.push_back(fifo_.pop());
        tasks_.retire(discarded.size());
      }
      slots_.close();
    }
    // `discarded` dies here, outside the locks, in case T's destructor
    // touches the queue.
  }

  std::size_t qsize() const noexcept { return items_.count(); }
  bool full() const noexcept { return maxsize_ != 0 && slots_.count() == 0; }
  bool is_shutdown() const noexcept { return items_.closed(); }
  std::size_t unfinished_tasks() const noexcept { return tasks_.unfinished(); }
  std::size_t maxsize() const noexcept { return maxsize_; }

 private:
  static TicketCounter::Taken take(TicketCounter& counter, bool block, const Deadline& deadline) noexcept {
    return block ? counter.take(deadline) : counter.take_now();
  }

  const std::size_t maxsize_;
  alignas(64) FutexMutex tail_mutex_;
  alignas(64) FutexMutex head_mutex_;
  alignas(64) TicketCounter items_;
  alignas(64) TicketCounter slots_;
  TaskCounter tasks_;
  SegmentedFifo<T> fifo_;
};

}  // namespace weft::detail
