// weft/queue/detail/stores.hpp — the orders queues keep items in: FIFO (a
// deque), LIFO (a stack) and priority (a binary min-heap). Not
// synchronized: the queue using one guards it (QueueCore with its mutex;
// the single-threaded aio and green queues need nothing).
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <functional>
#include <utility>
#include <vector>

namespace weft::detail {

// First in, first out.
template <class T>
class FifoStore {
 public:
  void reserve(std::size_t) noexcept {}  // a deque grows by blocks
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item(std::move(items_.front()));
    items_.pop_front();
    return item;
  }
  const T& top() const noexcept { return items_.front(); }  // the item pop() returns next
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

 private:
  std::deque<T> items_;
};

// Last in, first out.
template <class T>
class StackStore {
 public:
  void reserve(std::size_t n) { items_.reserve(n); }
  void push(T&& item) { items_.push_back(std::move(item)); }
  T pop() {
    T item(std::move(items_.back()));
    items_.pop_back();
    return item;
  }
  const T& top() const noexcept { return items_.back(); }  // the item pop() returns next
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

 private:
  std::vector<T> items_;
};

// Lowest first, as Python's heapq-based PriorityQueue: pop() returns the
// item x for which no other item y has compare(y, x).
template <class T, class Compare>
class HeapStore {
 public:
  void reserve(std::size_t n) { items_.reserve(n); }
  void push(T&& item) {
    items_.push_back(std::move(item));
    std::push_heap(items_.begin(), items_.end(), later());
  }
  T pop() {
    std::pop_heap(items_.begin(), items_.end(), later());
    T item(std::move(items_.back()));
    items_.pop_back();
    return item;
  }
  const T& top() const noexcept { return items_.front(); }  // the item pop() returns next
  std::size_t size() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }

 private:
  // std's heap algorithms keep the greatest element on top; inverting the
  // comparison keeps the least there.
  auto later() const {
    return [this](const T& a, const T& b) { return compare_(b, a); };
  }

  std::vector<T> items_;
  [[no_unique_address]] Compare compare_;
};

}  // namespace weft::detail
