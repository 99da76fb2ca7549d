// weft/aio/queue.hpp — Python's asyncio queues: aio::Queue<T>,
// aio::LifoQueue<T>, aio::PriorityQueue<T, Compare>, and QueueEmpty,
// QueueFull, QueueShutDown.
//
// A queue hands items from producer tasks to consumer tasks of one loop.
// Queue is FIFO, LifoQueue LIFO, PriorityQueue lowest-first (as Python's
// heapq: the item x for which no other y has compare(y, x)). `maxsize`
// bounds the number of items (0: unbounded).
//
//   co_await q.put(x)        suspends while the queue is full
//   co_await q.get()         suspends while it is empty; returns the item
//   q.put_nowait(x)          never suspends: throws QueueFull
//   q.get_nowait()           never suspends: throws QueueEmpty
//   q.try_put(std::move(x))  returns false instead of throwing QueueFull,
//                            and leaves x untouched then
//   q.try_get()              returns std::nullopt instead of throwing
//                            QueueEmpty
//   q.task_done(), co_await q.join()   Python's completion tracking: every
//                            put adds an unfinished task, task_done()
//                            retires one (ValueError if there is none), and
//                            join() suspends until none is left.
//
// A put() or get() that can go ahead at once neither suspends nor touches
// the loop. One that waits behaves as Python's: the longest-waiting getter
// is woken by each put and the longest-waiting putter by each get, and a
// woken task checks again when it runs — if another task got there first
// it waits again. A getter woken and then cancelled before it ran throws
// CancelledError and wakes the next getter in its place, so no item is left
// behind with a getter waiting (likewise for putters and free slots). A
// put() or get() that has to wait runs a coroutine frame for it (Python
// allocates a future there); join() allocates nothing.
//
// shutdown(immediate) has Python 3.13's semantics: afterwards put() and
// put_nowait() throw QueueShutDown, and so do putters already waiting;
// get() keeps draining the remaining items and throws QueueShutDown once
// the queue is empty, waking waiting getters to do so. shutdown(true) also
// discards the remaining items and retires their unfinished tasks, which
// releases join(). The try_ forms throw QueueShutDown too: it is not a full
// or empty queue.
//
// T may be move-only. Items are moved in and out.
//
// Not thread-safe: use a queue from the tasks of one loop only (weft::Queue
// is the thread-safe one). Not copyable or movable; destroying a queue that
// tasks wait on is undefined behaviour.
#pragma once

#include <coroutine>
#include <cstddef>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/inline_wait.hpp"
#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/event.hpp"
#include "weft/aio/task.hpp"
#include "weft/errors.hpp"
#include "weft/queue/detail/stores.hpp"

namespace weft::aio {

// get_nowait() on an empty queue. asyncio.QueueEmpty.
class QueueEmpty : public std::runtime_error {
 public:
  QueueEmpty() : std::runtime_error("queue is empty") {}
};

// put_nowait() on a full queue. asyncio.QueueFull.
class QueueFull : public std::runtime_error {
 public:
  QueueFull() : std::runtime_error("queue is full") {}
};

// A put on a queue that was shut down, or a get on one that was shut down
// and is empty. asyncio.QueueShutDown (Python 3.13).
class QueueShutDown : public std::runtime_error {
 public:
  QueueShutDown() : std::runtime_error("queue is shut down") {}
};

namespace detail {

// The queue shared by Queue, LifoQueue and PriorityQueue; `Store` keeps
// the order (weft/queue/detail/stores.hpp).
template <class T, class Store>
class BasicQueue {
 public:
  class PutAwaiter;
  class GetAwaiter;

  // maxsize 0: unbounded.
  explicit BasicQueue(std::size_t maxsize = 0) : maxsize_(maxsize) { finished_.set(); }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  // `co_await q.put(x)`: adds x, suspending while the queue is full. Throws
  // QueueShutDown once the queue is shut down, CancelledError if the task
  // is cancelled while it waits (x is not added then).
  PutAwaiter put(T item) noexcept(std::is_nothrow_move_constructible_v<T>) {
    return PutAwaiter(*this, std::move(item));
  }
  // Adds x without suspending. Throws QueueShutDown, or QueueFull.
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    push(std::move(item));
  }
  // Adds x if there is room, and moves from it only then. Throws
  // QueueShutDown.
  bool try_put(T&& item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) return false;
    push(std::move(item));
    return true;
  }
  bool try_put(const T& item) {
    T copy(item);
    return try_put(std::move(copy));
  }

  // `T x = co_await q.get()`: removes and returns the next item, suspending
  // while the queue is empty. Throws QueueShutDown once the queue is shut
  // down and empty, CancelledError if the task is cancelled while it waits.
  GetAwaiter get() noexcept { return GetAwaiter(*this); }
  // The next item, without suspending. Throws QueueShutDown if the queue is
  // shut down and empty, else QueueEmpty if it is empty.
  T get_nowait() {
    if (store_.empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    return pop();
  }
  // The next item, or std::nullopt if the queue is empty. Throws
  // QueueShutDown if it is shut down and empty.
  std::optional<T> try_get() {
    if (store_.empty()) {
      if (shutdown_) throw QueueShutDown();
      return std::nullopt;
    }
    return pop();
  }

  std::size_t qsize() const noexcept { return store_.size(); }
  bool empty() const noexcept { return store_.empty(); }
  bool full() const noexcept { return maxsize_ != 0 && store_.size() >= maxsize_; }
  std::size_t maxsize() const noexcept { return maxsize_; }

  // Retires one unfinished task; when none is left, join() returns. Throws
  // ValueError if there is none.
  void task_done() {
    if (unfinished_ == 0) throw ValueError("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  // `co_await q.join()`: suspends until every item put has been retired by
  // task_done() (at once if none is unfinished). Throws CancelledError if
  // the task is cancelled meanwhile.
  Event::WaitAwaiter join() noexcept { return finished_.wait(); }
  // The items put and not yet retired by task_done().
  std::size_t unfinished_tasks() const noexcept { return unfinished_; }

  // See the top of this file. Never suspends.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!store_.empty()) {
        store_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    getters_.notify_all();
    putters_.notify_all();
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  void push(T&& item) {
    store_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    getters_.notify_one();
  }
  T pop() {
    T item = store_.pop();
    putters_.notify_one();
    return item;
  }

  // The slow paths of put() and get(): wait until there is room (an item),
  // as often as it takes. A waiter woken for it and then cancelled passes
  // the wake-up on if the room (item) is still there.
  Task<void> wait_for_room() {
    while (full()) {
      if (shutdown_) throw QueueShutDown();
      auto putter = putters_.wait();
      try {
        co_await putter;
      } catch (...) {
        if (putter.woken() && !full()) putters_.notify_one();
        throw;
      }
    }
  }
  Task<void> wait_for_item() {
    while (store_.empty()) {
      if (shutdown_) throw QueueShutDown();
      auto getter = getters_.wait();
      try {
        co_await getter;
      } catch (...) {
        if (getter.woken() && !store_.empty()) getters_.notify_one();
        throw;
      }
    }
  }

  Store store_;
  const std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  WaitList getters_;
  WaitList putters_;
  Event finished_;
};

template <class T, class Store>
class BasicQueue<T, Store>::PutAwaiter {
 public:
  PutAwaiter(BasicQueue& queue, T&& item) noexcept(std::is_nothrow_move_constructible_v<T>)
      : queue_(queue), item_(std::move(item)) {}
  PutAwaiter(const PutAwaiter&) = delete;

  bool await_ready() const noexcept { return !queue_.full() || queue_.shutdown_; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
    return slow_.start(queue_.wait_for_room(), awaiting);
  }
  void await_resume() {
    if (slow_.started()) slow_.finish();
    queue_.put_nowait(std::move(item_));
  }

 private:
  BasicQueue& queue_;
  T item_;
  InlineWait slow_;
};

template <class T, class Store>
class BasicQueue<T, Store>::GetAwaiter {
 public:
  explicit GetAwaiter(BasicQueue& queue) noexcept : queue_(queue) {}
  GetAwaiter(const GetAwaiter&) = delete;

  bool await_ready() const noexcept { return !queue_.empty() || queue_.shutdown_; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) {
    return slow_.start(queue_.wait_for_item(), awaiting);
  }
  T await_resume() {
    if (slow_.started()) slow_.finish();
    return queue_.get_nowait();
  }

 private:
  BasicQueue& queue_;
  InlineWait slow_;
};

}  // namespace detail

// First in, first out.
template <class T>
class Queue : public detail::BasicQueue<T, weft::detail::FifoStore<T>> {
 public:
  using detail::BasicQueue<T, weft::detail::FifoStore<T>>::BasicQueue;
};

// Last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, weft::detail::StackStore<T>> {
 public:
  using detail::BasicQueue<T, weft::detail::StackStore<T>>::BasicQueue;
};

// Lowest first: get() returns the item x for which no other item y has
// compare(y, x). Python's entries are typically (priority, data) tuples:
// std::pair / std::tuple compare the same way.
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, weft::detail::HeapStore<T, Compare>> {
 public:
  using detail::BasicQueue<T, weft::detail::HeapStore<T, Compare>>::BasicQueue;
};

}  // namespace weft::aio
