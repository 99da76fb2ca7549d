// src/io/timer_heap.hpp — the loop's timers, a binary min-heap ordered by
// (due time, arming order), each Timer knowing its slot so that cancelling
// is O(log n).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "weft/io/timer.hpp"

namespace weft::io::detail {

class TimerHeap {
 public:
  bool empty() const noexcept { return heap_.empty(); }
  std::size_t size() const noexcept { return heap_.size(); }
  Timer* top() const noexcept { return heap_.empty() ? nullptr : heap_.front(); }
  // The sequence number the next timer armed will get: every timer armed
  // from now on has one at least as large.
  std::uint64_t next_sequence() const noexcept { return next_sequence_; }

  void push(Timer& timer, Timer::Clock::time_point when) {
    if (timer.scheduled()) erase(timer);
    timer.when_ = when;
    timer.sequence_ = next_sequence_++;
    timer.heap_index_ = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(&timer);
    sift_up(timer.heap_index_);
  }

  void erase(Timer& timer) noexcept {
    const std::size_t index = timer.heap_index_;
    if (index == Timer::kNotScheduled) return;
    const std::size_t last = heap_.size() - 1;
    if (index != last) {
      place(index, heap_[last]);
      heap_.pop_back();
      sift_down(index);
      sift_up(index);
    } else {
      heap_.pop_back();
    }
    timer.heap_index_ = Timer::kNotScheduled;
  }

  Timer* pop() noexcept {
    Timer* first = top();
    if (first != nullptr) erase(*first);
    return first;
  }

 private:
  static bool before(const Timer* a, const Timer* b) noexcept {
    return a->when_ < b->when_ || (a->when_ == b->when_ && a->sequence_ < b->sequence_);
  }
  void place(std::size_t index, Timer* timer) noexcept {
    heap_[index] = timer;
    timer->heap_index_ = static_cast<std::uint32_t>(index);
  }
  void sift_up(std::size_t index) noexcept {
    Timer* moving = heap_[index];
    while (index > 0) {
      const std::size_t parent = (index - 1) / 2;
      if (!before(moving, heap_[parent])) break;
      place(index, heap_[parent]);
      index = parent;
    }
    place(index, moving);
  }
  void sift_down(std::size_t index) noexcept {
    Timer* moving = heap_[index];
    for (;;) {
      std::size_t child = 2 * index + 1;
      if (child >= heap_.size()) break;
      if (child + 1 < heap_.size() && before(heap_[child + 1], heap_[child])) ++child;
      if (!before(heap_[child], moving)) break;
      place(index, heap_[child]);
      index = child;
    }
    place(index, moving);
  }

  std::vector<Timer*> heap_;
  std::uint64_t next_sequence_ = 0;
};

}  // namespace weft::io::detail
