// weft/green/queue.hpp — gevent.queue for greenlets: Queue<T>,
// JoinableQueue<T>, LifoQueue<T> and PriorityQueue<T, Compare>.
//
// A queue hands items from producer greenlets to consumer greenlets. Queue
// is FIFO, LifoQueue LIFO, PriorityQueue lowest-first (as Python's heapq).
// `maxsize` bounds the number of items (0: unbounded); put() on a full queue
// parks the calling greenlet, and so does get() on an empty one.
//
// Each blocking call takes Python's arguments, and has a non-throwing form:
//   put(x)                 parks until there is room
//   put(x, false)          does not wait: throws weft::Full
//   put(x, true, 100ms)    waits at most 100 ms, then throws weft::Full
//   put_nowait(x)          = put(x, false)
//   try_put(std::move(x)[, timeout])   returns false instead of throwing,
//                          and leaves x untouched when it fails
//   get() / get(false) / get(true, timeout) / get_nowait()   throw
//                          weft::Empty likewise
//   try_get([timeout])     returns std::nullopt instead of throwing
//   peek(...) / peek_nowait()   as get(), but leave the item in the queue
// A timeout of zero or less does not wait.
//
// Fairness: parked getters receive items, and parked putters room, strictly
// in the order they began to wait; an item put while getters wait is
// reserved for the longest-waiting one, so a greenlet arriving later cannot
// take it first. A Timeout or GreenletExit thrown into a parked greenlet
// ends its wait cleanly; an item or slot reserved for it passes on to the
// next waiter.
//
// shutdown(immediate) has Python 3.13's semantics: afterwards put() throws
// weft::ShutDown, and so do putters already parked; get() keeps draining the
// remaining items and throws ShutDown once the queue is empty, waking parked
// getters to do so. shutdown(true) also discards the remaining items (and,
// for a JoinableQueue, retires their unfinished tasks so join() returns).
// The try_ forms throw ShutDown too: it is not a timeout.
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. A wait that nothing can end raises LoopExit
// (naming "Queue.get", "Queue.put", ...).
//
// T may be move-only (peek() needs a copyable T). Items are moved in and
// out.
//
// Thread-safety: a queue belongs to the hub of one thread; use it only from
// greenlets of that thread (weft::Queue is the thread-safe one). Not
// copyable or movable; destroying one that greenlets wait on is undefined
// behaviour.
#pragma once

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <utility>

#include "weft/errors.hpp"
#include "weft/green/detail/wait_list.hpp"
#include "weft/queue/detail/stores.hpp"
#include "weft/queue/errors.hpp"

namespace weft::green {

namespace detail {

// The engine of every green queue: `Store` keeps the order. It also counts
// unfinished tasks, which only JoinableQueue exposes.
template <class T, class Store>
class BasicQueue {
 public:
  explicit BasicQueue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  void put(T item, bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    if (!put_item(item, block, deadline_for(timeout))) throw Full();
  }
  void put_nowait(T item) { put(std::move(item), false); }
  bool try_put(T&& item) { return put_item(item, false, std::nullopt); }
  bool try_put(T&& item, std::chrono::duration<double> timeout) {
    return put_item(item, true, deadline_for(timeout));
  }

  T get(bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    std::optional<T> item = get_item(block, deadline_for(timeout));
    if (!item) throw Empty();
    return std::move(*item);
  }
  T get_nowait() { return get(false); }
  std::optional<T> try_get() { return get_item(false, std::nullopt); }
  std::optional<T> try_get(std::chrono::duration<double> timeout) {
    return get_item(true, deadline_for(timeout));
  }

  // A copy of the item get() would return next, left in the queue. Waits
  // and throws as get().
  T peek(bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt)
    requires std::copy_constructible<T>
  {
    const Deadline deadline = deadline_for(timeout);
    for (;;) {
      if (!store_.empty()) return store_.top();
      if (shutdown_) throw ShutDown();
      if (!block) throw Empty();
      // Woken by every put (or the shutdown); the item may be gone again
      // by the time this greenlet runs, so look again.
      Waiter waiter(peekers_);
      if (waiter.wait("Queue.peek", deadline) == kNoNotice) throw Empty();
    }
  }
  T peek_nowait()
    requires std::copy_constructible<T>
  {
    return peek(false);
  }

  // Never block.
  std::size_t qsize() const noexcept { return store_.size(); }
  bool empty() const noexcept { return store_.empty(); }
  bool full() const noexcept { return maxsize_ != 0 && store_.size() >= maxsize_; }
  std::size_t maxsize() const noexcept { return maxsize_; }

  // See the top of this file. Never blocks or switches.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      Store discarded(std::move(store_));
      store_ = Store();
      retire(discarded.size());
    }
    putters_.notify_all(kShutDown);
    getters_.notify_all(kShutDown);
    peekers_.notify_all(kShutDown);
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 protected:
  // JoinableQueue's task counting.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    retire(1);
  }
  bool join(std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    if (unfinished_ == 0) return true;
    Waiter waiter(joiners_);
    return waiter.wait("JoinableQueue.join", deadline_for(timeout)) != kNoNotice || unfinished_ == 0;
  }
  std::size_t unfinished_tasks() const noexcept { return unfinished_; }

 private:
  static constexpr Notice kGranted = kNotified;  // an item (getters) or a slot (putters) is reserved for you
  static constexpr Notice kShutDown = 2;

  // Moves from `item` only if it is enqueued. Returns false when there was
  // no room (not blocking, or the deadline passed). Throws ShutDown.
  bool put_item(T& item, bool block, const Deadline& deadline) {
    if (shutdown_) throw ShutDown();
    if (!has_free_slot()) {
      if (!block) return false;
      const Notice notice = wait_for_notice(putters_, "Queue.put", deadline, [this](Notice given) {
        if (given == kGranted) give_back(reserved_slots_);
      });
      if (notice == kNoNotice) return false;
      if (notice == kGranted) --reserved_slots_;
      if (shutdown_) throw ShutDown();
    }
    try {
      store_.push(std::move(item));
    } catch (...) {
      hand_out();
      throw;
    }
    ++unfinished_;
    peekers_.notify_all();
    hand_out();
    return true;
  }

  // Returns nothing when there was no item (not blocking, or the deadline
  // passed). Throws ShutDown once shut down and empty.
  std::optional<T> get_item(bool block, const Deadline& deadline) {
    if (store_.size() <= reserved_items_) {
      if (shutdown_) throw ShutDown();
      if (!block) return std::nullopt;
      const Notice notice = wait_for_notice(getters_, "Queue.get", deadline, [this](Notice given) {
        if (given == kGranted) give_back(reserved_items_);
      });
      if (notice == kNoNotice) return std::nullopt;
      if (notice == kShutDown) throw ShutDown();
      --reserved_items_;
      // shutdown(true) discarded the item reserved for this greenlet.
      if (store_.empty()) throw ShutDown();
    }
    std::optional<T> item(std::in_place, store_.pop());
    hand_out();
    return item;
  }

  bool has_free_slot() const noexcept { return maxsize_ == 0 || store_.size() + reserved_slots_ < maxsize_; }

  // Reserves unreserved items for parked getters and free slots for parked
  // putters, longest waiter first.
  void hand_out() noexcept {
    while (store_.size() > reserved_items_ && getters_.notify_one(kGranted)) ++reserved_items_;
    while (has_free_slot() && putters_.notify_one(kGranted)) ++reserved_slots_;
  }
  // A reservation its waiter could not use passes on.
  void give_back(std::size_t& reserved) noexcept {
    --reserved;
    hand_out();
  }

  void retire(std::size_t tasks) noexcept {
    unfinished_ -= std::min(tasks, unfinished_);
    if (unfinished_ == 0) joiners_.notify_all();
  }

  Store store_;
  WaitList getters_;
  WaitList putters_;
  WaitList peekers_;
  WaitList joiners_;
  std::size_t reserved_items_ = 0;  // items promised to notified getters that have not resumed
  std::size_t reserved_slots_ = 0;  // room promised to notified putters that have not resumed
  std::size_t unfinished_ = 0;
  const std::size_t maxsize_;
  bool shutdown_ = false;
};

}  // namespace detail

// First in, first out.
template <class T>
class Queue : public detail::BasicQueue<T, weft::detail::FifoStore<T>> {
 public:
  using detail::BasicQueue<T, weft::detail::FifoStore<T>>::BasicQueue;
};

// A Queue that also tracks completion: every put() adds an unfinished task,
// task_done() retires one, join() parks until none is left.
template <class T>
class JoinableQueue : public Queue<T> {
  using Base = detail::BasicQueue<T, weft::detail::FifoStore<T>>;

 public:
  using Queue<T>::Queue;

  // Retires one unfinished task. Throws weft::ValueError if there is none.
  // Never blocks or switches.
  using Base::task_done;
  // Parks until every item put has been retired by task_done() (at most
  // `timeout`); returns whether they all were. Rethrows what is thrown into
  // the greenlet meanwhile.
  using Base::join;
  using Base::unfinished_tasks;
};

// Last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, weft::detail::StackStore<T>> {
 public:
  using detail::BasicQueue<T, weft::detail::StackStore<T>>::BasicQueue;
};

// Lowest first: get() returns an item x such that no queued y has
// compare(y, x). Use std::pair/std::tuple (priority, data) entries as in
// Python; items that compare equal come out in unspecified order.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, weft::detail::HeapStore<T, Compare>> {
 public:
  using detail::BasicQueue<T, weft::detail::HeapStore<T, Compare>>::BasicQueue;
};

}  // namespace weft::green
