// weft/queue/detail/ring_core.hpp — the engine of a bounded weft::Queue<T>:
// Python's queue.Queue semantics on a lock-free ring (Dmitry Vyukov's
// bounded MPMC queue), so a put or a get costs one compare-and-swap.
//
// Each of the maxsize cells carries a sequence number that says whose turn
// it is: a producer claims position p when cell p%N says p, fills it and
// marks it p+1; a consumer claims it when it says p+1, empties it and marks
// it p+N for the producer one lap later. Blocked putters and getters sleep
// on event counts; the sequentially consistent store that publishes a cell
// orders it before one load that tells whether anybody sleeps. A woken getter that leaves items behind wakes the
// next sleeping getter (and likewise for putters and room), so one wake-up
// in flight at a time is enough.
//
// Shutdown (Python 3.13): a gate word holds the shutdown mode and the number
// of puts in flight. A put enters the gate (failing with ShutDown once it is
// closed) and leaves it after publishing; shutdown() closes the gate and
// waits for the puts in flight before it discards (immediate) or lets the
// getters drain, and a getter that finds the queue closed and empty waits
// for them too. So every put either happens before the shutdown, and its
// item is delivered or discarded like any other, or is rejected by it.
//
// Needs T to be nothrow-move-constructible (a claimed cell must be filled);
// Queue<T> uses FifoCore otherwise.
#pragma once

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/event_count.hpp"
#include "weft/detail/gate.hpp"
#include "weft/detail/futex.hpp"
#include "weft/queue/detail/task_counter.hpp"
#include "weft/queue/errors.hpp"

namespace weft::detail {

template <class T>
class RingCore {
  static_assert(std::is_nothrow_move_constructible_v<T>);

 public:
  // With one cell, "free for position p+1" and "filled at p" read the same.
  static constexpr std::size_t kMinSize = 2;

  explicit RingCore(std::size_t maxsize)
      : maxsize_(maxsize),
        mask_(std::has_single_bit(maxsize) ? maxsize - 1 : 0),
        cells_(std::make_unique<Cell[]>(maxsize)) {
    for (std::size_t i = 0; i < maxsize_; ++i) cells_[i].sequence.store(static_cast<Sequence>(i), std::memory_order_relaxed);
  }
  RingCore(const RingCore&) = delete;
  RingCore& operator=(const RingCore&) = delete;
  ~RingCore() {
    while (try_pop()) {
    }
  }

  // Moves from `item` only if it was enqueued. Returns false when the queue
  // stayed full. Throws ShutDown.
  bool put(T& item, bool block, const Deadline& deadline) {
    if (puts_.try_enter() != 0) throw ShutDown();
    tasks_.add();
    while (!try_push(item)) {
      // A blocked putter is not "in flight": shutdown must not wait for it.
      puts_.leave();
      const bool room = block && wait_for_room(deadline);
      if (!room || puts_.try_enter() != 0) {
        tasks_.retire_quietly(1);
        if (closed()) throw ShutDown();
        return false;
      }
    }
    puts_.leave();
    not_empty_.notify_one();
    if (not_full_.has_waiters() && has_room()) not_full_.notify_one();
    return true;
  }

  // Returns nothing when the queue stayed empty. Throws ShutDown once shut
  // down and empty.
  std::optional<T> get(bool block, const Deadline& deadline) {
    for (;;) {
      if (std::optional<T> item = try_pop()) {
        not_full_.notify_one();
        if (not_empty_.has_waiters() && has_item()) not_empty_.notify_one();
        return item;
      }
      if (closed()) return last_item();
      if (!block || !wait_for_item(deadline)) {
        if (std::optional<T> item = try_pop()) return item;
        if (closed()) return last_item();
        return std::nullopt;
      }
    }
  }

  void task_done() { tasks_.done(); }
  bool join(const Deadline& deadline) { return tasks_.join(deadline); }

  void shutdown(bool immediate) {
    puts_.close(immediate ? kImmediate : kClosed);
    if (immediate) discard_all();
    not_empty_.notify_all();
    not_full_.notify_all();
  }

  std::size_t qsize() const noexcept {
    const std::size_t tail = enqueue_pos_.load(std::memory_order_acquire);
    const std::size_t head = dequeue_pos_.load(std::memory_order_acquire);
    return tail > head ? std::min(tail - head, maxsize_) : 0;
  }
  bool full() const noexcept { return qsize() >= maxsize_; }
  bool is_shutdown() const noexcept { return closed(); }
  std::size_t unfinished_tasks() const noexcept { return tasks_.unfinished(); }
  std::size_t maxsize() const noexcept { return maxsize_; }

 private:
  // Why puts_ closed: a shutdown, graceful or immediate.
  static constexpr std::uint64_t kClosed = Gate::kReasonA;
  static constexpr std::uint64_t kImmediate = Gate::kReasonB;
  static constexpr int kSpins = 200;
  // How long a get waits for a producer to finish filling a claimed cell.
  static constexpr std::chrono::seconds kFillerPatience{1};

  // Sequence numbers are positions modulo 2^32: differences stay far
  // below 2^31 (the ring holds at most FifoEngine::kMaxRing cells), and a
  // small cell packs more items into each cache line the two sides share.
  using Sequence = std::uint32_t;

  static std::int32_t lag(Sequence sequence, std::size_t position) noexcept {
    return static_cast<std::int32_t>(sequence - static_cast<Sequence>(position));
  }

  struct Cell {
    std::atomic<Sequence> sequence;
    alignas(T) std::byte storage[sizeof(T)];
    T* item() noexcept { return std::launder(reinterpret_cast<T*>(storage)); }
  };

  Cell& cell(std::size_t position) noexcept {
    return cells_[mask_ != 0 ? (position & mask_) : (position % maxsize_)];
  }

  bool try_push(T& item) noexcept {
    std::size_t position = enqueue_pos_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& c = cell(position);
      const std::int32_t behind = lag(c.sequence.load(std::memory_order_acquire), position);
      if (behind == 0) {
        if (enqueue_pos_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          ::new (static_cast<void*>(c.storage)) T(std::move(item));
          c.sequence.store(static_cast<Sequence>(position + 1), std::memory_order_seq_cst);
          return true;
        }
      } else if (behind < 0) {
        return false;
      } else {
        position = enqueue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  std::optional<T> try_pop() noexcept {
    std::size_t position = dequeue_pos_.load(std::memory_order_relaxed);
    int waits = 0;
    std::chrono::steady_clock::time_point gave_up_at{};
    for (;;) {
      Cell& c = cell(position);
      const std::int32_t behind = lag(c.sequence.load(std::memory_order_acquire), position + 1);
      if (behind == 0) {
        if (dequeue_pos_.compare_exchange_weak(position, position + 1, std::memory_order_relaxed)) {
          std::optional<T> item(std::in_place, std::move(*c.item()));
          c.item()->~T();
          c.sequence.store(static_cast<Sequence>(position + maxsize_), std::memory_order_seq_cst);
          return item;
        }
      } else if (behind < 0) {
        // Empty, unless a producer has claimed this cell and is filling it:
        // it is a move constructor away from done, and items put after it
        // wait behind it, so wait for it rather than report an empty queue
        // that a later put() has already returned from (Python's put holds
        // the queue's mutex for as long). The wait is bounded: in a child
        // of fork() that producer may not exist.
        if (enqueue_pos_.load(std::memory_order_relaxed) <= position) return std::nullopt;
        if (++waits < kSpins) {
          cpu_relax();
        } else {
          const auto now = std::chrono::steady_clock::now();
          if (waits == kSpins) gave_up_at = now + kFillerPatience;
          if (now >= gave_up_at) return std::nullopt;
          std::this_thread::yield();
        }
        position = dequeue_pos_.load(std::memory_order_relaxed);
      } else {
        position = dequeue_pos_.load(std::memory_order_relaxed);
      }
    }
  }

  // Whether the `ahead`-th item (room) from the current end is ready.
  bool has_item(std::size_t ahead = 0) noexcept {
    const std::size_t position = dequeue_pos_.load(std::memory_order_seq_cst) + ahead;
    return lag(cell(position).sequence.load(std::memory_order_seq_cst), position + 1) == 0;
  }
  bool has_room(std::size_t ahead = 0) noexcept {
    const std::size_t position = enqueue_pos_.load(std::memory_order_seq_cst) + ahead;
    return lag(cell(position).sequence.load(std::memory_order_seq_cst), position) == 0;
  }

  // Waits until an item may be there or the queue is shut down; false if
  // the deadline passed first.
  //
  // While spinning, a waiter holds out for a batch (`batch_` cells) rather
  // than one: a producer and a consumer that otherwise alternate cell by
  // cell on a full or empty ring would pass every cache line back and forth
  // once per item. Once it sleeps, one item (or one free cell) wakes it.
  bool wait_for_item(const Deadline& deadline) {
    return wait_until(not_empty_, deadline, [this](std::size_t ahead) { return has_item(ahead); });
  }
  bool wait_for_room(const Deadline& deadline) {
    return wait_until(not_full_, deadline, [this](std::size_t ahead) { return has_room(ahead); });
  }

  template <class Ready>
  bool wait_until(EventCount& event, const Deadline& deadline, Ready ready) {
    for (int i = 0; i < kSpins; ++i) {
      if (ready(batch_ - 1) || closed()) return true;
      cpu_relax();
    }
    if (ready(0)) return true;
    const EventCount::Key key = event.prepare_wait();
    if (ready(0) || closed()) {
      event.cancel_wait();
      return true;
    }
    return event.wait(key, deadline) || !expired(deadline);
  }

  bool closed() const noexcept { return puts_.reasons() != 0; }

  // After shutdown: whatever a put that was in flight leaves, or ShutDown.
  std::optional<T> last_item() {
    puts_.await_empty();
    if (std::optional<T> item = try_pop()) return item;
    throw ShutDown();
  }

  void discard_all() noexcept {
    std::size_t discarded = 0;
    while (try_pop()) ++discarded;
    if (discarded != 0) {
      tasks_.retire(discarded);
      not_full_.notify_all();
    }
  }

  const std::size_t maxsize_;
  const std::size_t mask_;
  const std::size_t batch_ = std::clamp<std::size_t>(maxsize_ / 8, 1, 32);
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<std::size_t> enqueue_pos_{0};
  alignas(64) std::atomic<std::size_t> dequeue_pos_{0};
  alignas(64) Gate puts_;
  EventCount not_empty_;
  EventCount not_full_;
  TaskCounter tasks_;
};

}  // namespace weft::detail
