// RingQueue: creation and attachment, whole-record put and get, tasks.
#include "weft/mp/detail/ring_queue.hpp"

#include <unistd.h>

#include <bit>
#include <new>
#include <optional>
#include <string>

#include "ring_layout.hpp"
#include "weft/codec.hpp"
#include "weft/errors.hpp"

namespace weft::mp::detail {
namespace {

using weft::detail::Clock;
using weft::detail::Deadline;

// How long a consumer that found the ring empty, or a producer that found
// it full, polls it before sleeping: the other side, running on another
// core, usually changes it within this, and a poll costs far less than a
// futex sleep and wake-up (which, when both sides keep meeting the same
// edge, would otherwise come once per item).
constexpr int kSpins = 200;

// Polls until ready() holds or the spin budget is spent.
template <class Ready>
void spin_until(Ready ready) noexcept {
  for (int i = 0; i < kSpins && !ready(); ++i) weft::detail::cpu_relax();
}

const char* kind_name(QueueKind kind) {
  switch (kind) {
    case QueueKind::simple:
      return "SimpleQueue";
    case QueueKind::joinable:
      return "JoinableQueue";
    case QueueKind::queue:
      break;
  }
  return "Queue";
}

std::size_t ring_capacity(std::size_t requested) {
  if (requested > RingQueue::max_capacity)
    throw ValueError("a queue's capacity may not exceed " +
                     std::to_string(RingQueue::max_capacity) + " bytes");
  return std::bit_ceil(std::max(requested, RingQueue::min_capacity));
}

}  // namespace

RingQueue::RingQueue(QueueKind kind, std::size_t maxsize, std::size_t capacity,
                     std::uint32_t item_size) {
  const std::size_t bytes = ring_capacity(capacity);
  block_ = SharedBlock::create(kRingOffset + bytes, kind_name(kind));
  layout_ = new (block_->data()) RingLayout(kind, item_size, bytes, maxsize);
  ring_ = static_cast<std::byte*>(block_->data()) + kRingOffset;
}

RingQueue::RingQueue(std::shared_ptr<SharedBlock> block, QueueKind kind, std::uint32_t item_size)
    : block_(std::move(block)) {
  const auto* layout = block_->as<const RingLayout>();
  if (block_->size() < kRingOffset + min_capacity || layout->magic != RingLayout::kMagic ||
      layout->kind != kind || layout->item_size != item_size ||
      !std::has_single_bit(layout->capacity) || layout->capacity < min_capacity ||
      block_->size() < kRingOffset + layout->capacity)
    throw codec::DecodeError(std::string("the shared block is not a ") + kind_name(kind) +
                             " of this item type");
  layout_ = block_->as<RingLayout>();
  ring_ = static_cast<std::byte*>(block_->data()) + kRingOffset;
}

void RingQueue::check_open() const {
  if (closed()) throw ValueError(std::string(kind_name(layout_->kind)) + " is closed");
}

bool RingQueue::put(std::string_view bytes, bool block, const Deadline& deadline) {
  check_open();
  RingLayout& layout = *layout_;
  const std::uint64_t size = record_size(bytes.size());
  if (size > layout.capacity) return put_stream(bytes, block, deadline);
  bool spun = false;
  while (true) {
    Guard guard(layout, block ? deadline : std::nullopt);
    if (!guard) return false;
    RingState s = layout.state.load();
    if (s.stream_open != 0) {
      guard.unlock();
      if (!wait_for_writer(block, deadline)) return false;
      continue;
    }
    if (layout.below_maxsize(s) && layout.free_bytes(s) >= size) {
      s.tail += RingBytes(ring_, layout.capacity).put(s.tail, kWhole, bytes);
      ++s.items;
      if (layout.kind == QueueKind::joinable) ++s.unfinished;
      guard.commit_and_notify(s, layout.not_empty);
      return true;
    }
    if (!block || weft::detail::expired(deadline)) return false;
    if (spun) {
      guard.sleep(layout.not_full, deadline);
    } else {
      guard.unlock();
      const SharedRingState& state = layout.state;
      spin_until([&] {
        const RingState now = state.load();
        return layout.below_maxsize(now) && layout.free_bytes(now) >= size;
      });
    }
    spun = !spun;
  }
}

bool RingQueue::get(std::string& out, bool block, const Deadline& deadline) {
  check_open();
  RingLayout& layout = *layout_;
  const RingBytes bytes(ring_, layout.capacity);
  bool spun = false;
  while (true) {
    Guard guard(layout, block ? deadline : std::nullopt);
    if (!guard) return false;
    RingState s = layout.state.load();
    if (s.head == s.tail) {
      if (!block || weft::detail::expired(deadline)) return false;
      if (spun) {
        guard.sleep(layout.not_empty, deadline);
      } else {
        guard.unlock();
        const SharedRingState& state = layout.state;
        spin_until([&] {
          return state.head.load(std::memory_order_relaxed) !=
                 state.tail.load(std::memory_order_relaxed);
        });
      }
      spun = !spun;
      continue;
    }
    const RecordHeader header = bytes.header(s.head);
    if (header.kind != kWhole && header.kind != kFirst) {
      // The rest of a stream another consumer is reading, or was reading
      // when it died.
      guard.unlock();
      if (!wait_for_reader(block, deadline)) return false;
      continue;
    }
    const bool stream = header.kind == kFirst;
    if (stream && layout.reader.try_lock() == RobustMutex::Locked::no) {
      // The previous stream's consumer has not let go of the reader lock yet.
      guard.unlock();
      if (!wait_for_reader(block, deadline)) return false;
      continue;
    }
    std::optional<Release> reading;
    if (stream) reading.emplace(layout.reader);
    out.resize(header.length);
    bytes.read(s.head + sizeof(RecordHeader), out.data(), header.length);
    s.head += record_size(header.length);
    --s.items;
    guard.commit_and_notify(s, layout.not_full);
    if (!stream || receive_rest(out, false)) return true;
  }
}

std::size_t RingQueue::qsize() const noexcept {
  return static_cast<std::size_t>(layout_->state.items.load(std::memory_order_relaxed));
}

bool RingQueue::full() const noexcept { return !layout_->below_maxsize(layout_->state.load()); }

std::size_t RingQueue::maxsize() const noexcept { return layout_->maxsize; }

std::size_t RingQueue::capacity() const noexcept { return layout_->capacity; }

void RingQueue::task_done() {
  RingLayout& layout = *layout_;
  Guard guard(layout, std::nullopt);
  RingState s = layout.state.load();
  if (s.unfinished == 0) throw ValueError("task_done() called too many times");
  --s.unfinished;
  if (s.unfinished == 0) {
    guard.commit_and_notify(s, layout.all_done);
  } else {
    layout.commit(s);
  }
}

bool RingQueue::join(const Deadline& deadline) {
  RingLayout& layout = *layout_;
  while (true) {
    Guard guard(layout, deadline);
    if (!guard) return false;
    if (layout.state.load().unfinished == 0) return true;
    if (weft::detail::expired(deadline)) return false;
    guard.sleep(layout.all_done, deadline);
  }
}

std::size_t RingQueue::unfinished_tasks() const noexcept {
  return static_cast<std::size_t>(layout_->state.unfinished.load(std::memory_order_relaxed));
}

void RingQueue::close() noexcept { closed_by_.store(::getpid(), std::memory_order_relaxed); }

bool RingQueue::closed() const noexcept {
  const pid_t by = closed_by_.load(std::memory_order_relaxed);
  return by != 0 && by == ::getpid();
}

std::uint64_t RingQueue::recoveries() const noexcept {
  return layout_->recoveries.load(std::memory_order_relaxed);
}

std::uint32_t RingQueue::share_with_child(const char* what) const {
  return block_->share_with_child(what);
}

}  // namespace weft::mp::detail
