// weft/queue/detail/fifo_engine.hpp — picks Queue<T>'s engine when the
// queue is made: the lock-free ring for a bounded queue of a reasonable
// size (its cells are allocated up front, and one cell cannot tell full
// from empty) whose items move without throwing, the two-lock segmented
// FIFO otherwise.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>

#include "weft/queue/detail/fifo_core.hpp"
#include "weft/queue/detail/ring_core.hpp"

namespace weft::detail {

template <class T>
class FifoEngine {
  static constexpr bool kRingable = std::is_nothrow_move_constructible_v<T>;

 public:
  // The largest maxsize served by the ring.
  static constexpr std::size_t kMaxRing = 1 << 16;

  explicit FifoEngine(std::size_t maxsize) {
    if constexpr (kRingable) {
      if (maxsize >= RingCore<T>::kMinSize && maxsize <= kMaxRing) {
        ring_ = std::make_unique<RingCore<T>>(maxsize);
        return;
      }
    }
    fifo_ = std::make_unique<FifoCore<T>>(maxsize);
  }

  bool put(T& item, bool block, const Deadline& deadline) {
    return ring() ? ring()->put(item, block, deadline) : fifo_->put(item, block, deadline);
  }
  std::optional<T> get(bool block, const Deadline& deadline) {
    return ring() ? ring()->get(block, deadline) : fifo_->get(block, deadline);
  }
  void task_done() { ring() ? ring()->task_done() : fifo_->task_done(); }
  bool join(const Deadline& deadline) { return ring() ? ring()->join(deadline) : fifo_->join(deadline); }
  void shutdown(bool immediate) { ring() ? ring()->shutdown(immediate) : fifo_->shutdown(immediate); }
  std::size_t qsize() const noexcept { return ring() ? ring()->qsize() : fifo_->qsize(); }
  bool full() const noexcept { return ring() ? ring()->full() : fifo_->full(); }
  bool is_shutdown() const noexcept { return ring() ? ring()->is_shutdown() : fifo_->is_shutdown(); }
  std::size_t unfinished_tasks() const noexcept {
    return ring() ? ring()->unfinished_tasks() : fifo_->unfinished_tasks();
  }
  std::size_t maxsize() const noexcept { return ring() ? ring()->maxsize() : fifo_->maxsize(); }

 private:
  struct NoRing {};
  using Ring = std::conditional_t<kRingable, RingCore<T>, NoRing>;

  Ring* ring() const noexcept {
    if constexpr (kRingable) return ring_.get();
    else return nullptr;
  }

  std::unique_ptr<Ring> ring_;
  std::unique_ptr<FifoCore<T>> fifo_;
};

}  // namespace weft::detail
