// weft/queue.hpp — Python's `queue` module for C++: Queue<T>, LifoQueue<T>,
// PriorityQueue<T, Compare>, SimpleQueue<T>, and Empty, Full, ShutDown.
//
// A queue hands items from producer threads to consumer threads. Queue is
// FIFO, LifoQueue LIFO, PriorityQueue lowest-first (as Python's heapq).
// `maxsize` bounds the number of items (0: unbounded); put() on a full
// queue blocks, get() on an empty one blocks. An unbounded Queue<T> (and a
// SimpleQueue<T>) holds at most 2^31 - 1 items: a put beyond that throws
// Full, even put(x), and try_put returns false.
//
// Each blocking call comes in Python's forms and a non-throwing one:
//   put(x)                blocks until there is room
//   put(x, false)         Python's put(x, block=False): throws Full
//   put(x, 100ms)         waits at most 100 ms, then throws Full
//   put_nowait(x)         = put(x, false)
//   try_put(std::move(x)[, timeout])  returns false instead of throwing,
//                         and leaves x untouched when it fails
//   get() / get(false) / get(timeout) / get_nowait()  throw Empty likewise
//   try_get([timeout])    returns std::nullopt instead of throwing
// A negative or NaN timeout throws ValueError.
//
// task_done() and join() track completion as in Python: every put() adds an
// unfinished task, every task_done() retires one (ValueError if there is
// none), and join() blocks until none are left.
//
// shutdown(immediate) has Python 3.13's semantics: afterwards put() throws
// ShutDown, and so do putters already blocked; get() keeps draining the
// remaining items and throws ShutDown once the queue is empty, waking
// blocked getters to do so. shutdown(true) also discards the remaining
// items, retiring their unfinished tasks so join() can return. The try_
// forms throw ShutDown too: it is not a timeout.
//
// T may be move-only. Items are moved in and moved out.
//
// Thread-safety: every member may be called concurrently from any thread.
// Not process-shared (see weft::mp::Queue). Not copyable or movable.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/queue/detail/fifo_engine.hpp"
#include "weft/queue/detail/queue_core.hpp"
#include "weft/queue/detail/stores.hpp"
#include "weft/queue/errors.hpp"

namespace weft {

namespace detail {

// The public face shared by Queue, LifoQueue and PriorityQueue; `Core` is
// the engine (FifoEngine, or QueueCore over a store).
template <class T, class Core>
class BasicQueue {
 public:
  explicit BasicQueue(std::size_t maxsize = 0) : core_(maxsize) {}

  void put(T item) {
    if (!core_.put(item, true, std::nullopt)) throw Full();
  }
  void put(T item, bool block) {
    if (!core_.put(item, block, std::nullopt)) throw Full();
  }
  template <class Rep, class Period>
  void put(T item, std::chrono::duration<Rep, Period> timeout) {
    if (!core_.put(item, true, deadline_after(timeout))) throw Full();
  }
  void put_nowait(T item) { put(std::move(item), false); }

  bool try_put(T&& item) { return core_.put(item, false, std::nullopt); }
  bool try_put(const T& item) {
    T copy(item);
    return core_.put(copy, false, std::nullopt);
  }
  template <class Rep, class Period>
  bool try_put(T&& item, std::chrono::duration<Rep, Period> timeout) {
    return core_.put(item, true, deadline_after(timeout));
  }
  template <class Rep, class Period>
  bool try_put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    T copy(item);
    return core_.put(copy, true, deadline_after(timeout));
  }

  T get() { return *core_.get(true, std::nullopt); }
  T get(bool block) { return value_or_empty(core_.get(block, std::nullopt)); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return value_or_empty(core_.get(true, deadline_after(timeout)));
  }
  T get_nowait() { return get(false); }

  std::optional<T> try_get() { return core_.get(false, std::nullopt); }
  template <class Rep, class Period>
  std::optional<T> try_get(std::chrono::duration<Rep, Period> timeout) {
    return core_.get(true, deadline_after(timeout));
  }

  // Snapshots: another thread may change the answer at once.
  std::size_t qsize() const { return core_.qsize(); }
  bool empty() const { return core_.qsize() == 0; }
  bool full() const { return core_.full(); }
  std::size_t maxsize() const noexcept { return core_.maxsize(); }

  // Retires one unfinished task. Throws ValueError if there is none.
  void task_done() { core_.task_done(); }
  // Blocks until every item put has been retired by task_done().
  void join() { core_.join(std::nullopt); }
  // Beyond Python: waits at most `timeout`; returns false if tasks remain.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return core_.join(deadline_after(timeout));
  }
  std::size_t unfinished_tasks() const { return core_.unfinished_tasks(); }

  void shutdown(bool immediate = false) { core_.shutdown(immediate); }
  bool is_shutdown() const { return core_.is_shutdown(); }

 private:
  static T value_or_empty(std::optional<T>&& item) {
    if (!item) throw Empty();
    return std::move(*item);
  }

  Core core_;
};

}  // namespace detail

// First in, first out.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoEngine<T>> {
 public:
  using detail::BasicQueue<T, detail::FifoEngine<T>>::BasicQueue;
};

// Last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::QueueCore<T, detail::StackStore<T>>> {
 public:
  using detail::BasicQueue<T, detail::QueueCore<T, detail::StackStore<T>>>::BasicQueue;
};

// Lowest first: get() returns an item x such that no queued y has
// compare(y, x). Use std::pair/std::tuple (priority, data) entries as in
// Python; items that compare equal come out in unspecified order.
template <class T, class Compare = std::less<T>>
class PriorityQueue
    : public detail::BasicQueue<T, detail::QueueCore<T, detail::HeapStore<T, Compare>>> {
 public:
  using detail::BasicQueue<T, detail::QueueCore<T, detail::HeapStore<T, Compare>>>::BasicQueue;
};

// An unbounded FIFO without task tracking or shutdown: Python's
// queue.SimpleQueue. put() never blocks (Python accepts and ignores its
// block and timeout arguments; so does this).
template <class T>
class SimpleQueue {
 public:
  SimpleQueue() : queue_(0) {}

  void put(T item) { queue_.put(std::move(item)); }
  void put(T item, bool) { queue_.put(std::move(item)); }
  template <class Rep, class Period>
  void put(T item, std::chrono::duration<Rep, Period>) {
    queue_.put(std::move(item));
  }
  void put_nowait(T item) { queue_.put(std::move(item)); }

  T get() { return queue_.get(); }
  T get(bool block) { return queue_.get(block); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return queue_.get(timeout);
  }
  T get_nowait() { return queue_.get_nowait(); }
  std::optional<T> try_get() { return queue_.try_get(); }
  template <class Rep, class Period>
  std::optional<T> try_get(std::chrono::duration<Rep, Period> timeout) {
    return queue_.try_get(timeout);
  }

  std::size_t qsize() const { return queue_.qsize(); }
  bool empty() const { return queue_.empty(); }

 private:
  Queue<T> queue_;
};

}  // namespace weft
