// weft/queue/detail/segmented_fifo.hpp — an unbounded FIFO of fixed-size
// segments whose two ends may be used at once by one producer and one
// consumer (each end under its own lock in FifoCore).
//
// The consumer only pops items it knows were pushed (FifoCore hands out a
// ticket per pushed item, with release/acquire ordering), so it never
// overtakes the producer, and a segment it leaves is no longer written. One
// spare segment is recycled, so a steady stream allocates nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <new>
#include <utility>

namespace weft::detail {

template <class T>
class SegmentedFifo {
 public:
  SegmentedFifo() : tail_{new Segment, 0}, head_{tail_.segment, 0} {}
  SegmentedFifo(const SegmentedFifo&) = delete;
  SegmentedFifo& operator=(const SegmentedFifo&) = delete;
  ~SegmentedFifo() {
    while (head_.segment != tail_.segment || head_.index != tail_.index) pop();
    delete head_.segment;
    delete spare_.load(std::memory_order_relaxed);
  }

  // Producer end. Strong guarantee: if T's constructor throws, nothing changed.
  void push(T&& item) {
    if (tail_.index == kPerSegment) {
      Segment* next = spare_.exchange(nullptr, std::memory_order_acquire);
      if (next == nullptr) next = new Segment;
      next->next.store(nullptr, std::memory_order_relaxed);
      ::new (static_cast<void*>(next->slot(0))) T(std::move(item));
      tail_.segment->next.store(next, std::memory_order_release);
      tail_ = {next, 1};
      return;
    }
    ::new (static_cast<void*>(tail_.segment->slot(tail_.index))) T(std::move(item));
    ++tail_.index;
  }

  // Consumer end; only for an item known to be there.
  T pop() {
    if (head_.index == kPerSegment) {
      Segment* next = head_.segment->next.load(std::memory_order_acquire);
      recycle(head_.segment);
      head_ = {next, 0};
    }
    T* slot = head_.segment->slot(head_.index);
    T item(std::move(*slot));
    slot->~T();
    ++head_.index;
    return item;
  }

 private:
  static constexpr std::size_t kPerSegment = std::max<std::size_t>(8, 4096 / sizeof(T));

  struct Segment {
    std::atomic<Segment*> next{nullptr};
    alignas(T) std::byte storage[kPerSegment * sizeof(T)];
    T* slot(std::size_t i) noexcept { return std::launder(reinterpret_cast<T*>(storage + i * sizeof(T))); }
  };

  struct alignas(64) End {
    Segment* segment;
    std::size_t index;
  };

  void recycle(Segment* segment) noexcept {
    Segment* expected = nullptr;
    if (!spare_.compare_exchange_strong(expected, segment, std::memory_order_release)) delete segment;
  }

  End tail_;
  End head_;
  std::atomic<Segment*> spare_{nullptr};
};

}  // namespace weft::detail
