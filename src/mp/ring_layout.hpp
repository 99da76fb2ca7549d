// The shared bookkeeping of a RingQueue, its journalled commit, its record
// format and its wake-ups. Private to the ring's sources.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "weft/detail/futex.hpp"
#include "weft/mp/detail/ring_queue.hpp"
#include "weft/mp/detail/robust_mutex.hpp"

namespace weft::mp::detail {

// What a commit changes, as one value. Byte positions count from the
// creation of the ring and never wrap (2^64 bytes is centuries of traffic);
// a position's offset in the ring is position % capacity.
struct RingState {
  std::uint64_t head = 0;         // the oldest record not yet taken
  std::uint64_t tail = 0;         // just past the newest committed record
  std::uint64_t items = 0;        // items put and not yet taken
  std::uint64_t unfinished = 0;   // joinable queues: tasks not yet done
  std::uint64_t stream_open = 0;   // a producer is between a stream's chunks
  std::uint64_t stream_start = 0;  // where the open (or last) stream's first chunk is
};

// RingState's fields as atomics, so that qsize() and a consumer spinning
// for an item may read them without the mutex.
struct SharedRingState {
  std::atomic<std::uint64_t> head{0};
  std::atomic<std::uint64_t> tail{0};
  std::atomic<std::uint64_t> items{0};
  std::atomic<std::uint64_t> unfinished{0};
  std::atomic<std::uint64_t> stream_open{0};
  std::atomic<std::uint64_t> stream_start{0};

  RingState load() const noexcept {
    constexpr auto order = std::memory_order_relaxed;
    return {head.load(order),        tail.load(order),        items.load(order),
            unfinished.load(order), stream_open.load(order), stream_start.load(order)};
  }
  void store(const RingState& next) noexcept {
    constexpr auto order = std::memory_order_relaxed;
    head.store(next.head, order);
    tail.store(next.tail, order);
    items.store(next.items, order);
    unfinished.store(next.unfinished, order);
    stream_open.store(next.stream_open, order);
    stream_start.store(next.stream_start, order);
  }
};

// One futex word and the number of processes sleeping on it. The count
// changes only under the ring's mutex: a sleeper adds itself before it
// sleeps; a waker claims every sleeper at once (zeroing the count and
// bumping the word) and wakes them all before it commits and unlocks, so
// that a waker killed in between leaves the mutex to be recovered, and
// recovery wakes every word. Until someone sleeps again, further commits find the count
// zero and make no system call, however long the woken take to run. A
// sleeper that was never claimed (it timed out) takes itself off again;
// one that died asleep is claimed and forgotten by the next waker.
struct alignas(64) Wakeup {
  std::atomic<std::uint32_t> seq{0};
  std::uint32_t sleepers = 0;

  // Under the mutex: whether anyone sleeps; if so, they count as woken.
  bool claim() noexcept {
    if (sleepers == 0) return false;
    sleepers = 0;
    seq.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  void wake() noexcept {
    weft::detail::futex_wake_all(seq, weft::detail::FutexScope::process_shared);
  }
};

struct RingLayout {
  static constexpr std::uint64_t kMagic = 0x77656674'52696e67;  // "weftRing"

  RingLayout(QueueKind kind, std::uint32_t item_size, std::uint64_t capacity,
             std::uint64_t maxsize)
      : kind(kind), item_size(item_size), capacity(capacity), maxsize(maxsize) {}

  // What every put and get touches, in as few cache lines as will do.
  alignas(64) RobustMutex mutex;  // guards the state and the ring's bytes
  // The commit being applied, replayed by whoever finds its writer dead.
  std::atomic<std::uint32_t> journal_valid{0};
  RingState journal;
  SharedRingState state;

  const std::uint64_t magic = kMagic;
  const QueueKind kind;
  const std::uint32_t item_size;
  const std::uint64_t capacity;  // a power of two
  const std::uint64_t maxsize;   // 0: unbounded

  RobustMutex writer;  // held by the producer of a stream, throughout
  RobustMutex reader;  // held by the consumer of a stream, throughout
  std::atomic<std::uint64_t> recoveries{0};

  Wakeup not_empty;  // a record was committed
  Wakeup not_full;   // items were taken, room was made, or a stream ended
  Wakeup all_done;   // the last unfinished task was done

  // Makes `next` the state, so that a death at any instruction leaves either
  // the old state or a journal that recover() completes. The signal fences
  // keep the compiler from reordering the steps; the stores of a killed
  // process up to its last instruction all reach memory.
  void commit(const RingState& next) noexcept {
    journal = next;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    journal_valid.store(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    state.store(next);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    journal_valid.store(0, std::memory_order_relaxed);
  }

  // Called with the mutex just taken over from a dead owner.
  void recover() noexcept {
    recoveries.fetch_add(1, std::memory_order_relaxed);
    if (journal_valid.load(std::memory_order_relaxed) != 0) {
      state.store(journal);
      journal_valid.store(0, std::memory_order_relaxed);
    }
    // The dead process may have claimed sleepers and died before waking
    // them, or been claimed for a wake-up that others needed to hear of.
    for (Wakeup* wakeup : {&not_empty, &not_full, &all_done}) {
      wakeup->claim();
      wakeup->wake();
    }
  }

  std::uint64_t free_bytes(const RingState& s) const noexcept {
    return capacity - (s.tail - s.head);
  }
  bool below_maxsize(const RingState& s) const noexcept {
    return maxsize == 0 || s.items < maxsize;
  }
};

// The ring's bytes start one page into the block.
inline constexpr std::size_t kRingOffset = 4096;
static_assert(sizeof(RingLayout) <= kRingOffset);

// Every record starts with this header; records are padded to 8 bytes so
// that a header never straddles the end of the ring.
struct RecordHeader {
  std::uint32_t length;  // payload bytes
  std::uint32_t kind;
};
enum RecordKind : std::uint32_t { kWhole = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

inline constexpr std::uint64_t record_size(std::uint64_t length) noexcept {
  return sizeof(RecordHeader) + ((length + 7) & ~std::uint64_t{7});
}

// The bytes of the ring, with wrap-around.
class RingBytes {
 public:
  RingBytes(std::byte* data, std::uint64_t capacity) noexcept
      : data_(data), mask_(capacity - 1) {}

  void write(std::uint64_t position, const void* source, std::uint64_t size) const noexcept {
    const std::uint64_t offset = position & mask_;
    const std::uint64_t first = std::min(size, mask_ + 1 - offset);
    std::memcpy(data_ + offset, source, first);
    std::memcpy(data_, static_cast<const std::byte*>(source) + first, size - first);
  }
  void read(std::uint64_t position, void* target, std::uint64_t size) const noexcept {
    const std::uint64_t offset = position & mask_;
    const std::uint64_t first = std::min(size, mask_ + 1 - offset);
    std::memcpy(target, data_ + offset, first);
    std::memcpy(static_cast<std::byte*>(target) + first, data_, size - first);
  }

  RecordHeader header(std::uint64_t position) const noexcept {
    RecordHeader header;
    std::memcpy(&header, data_ + (position & mask_), sizeof header);
    return header;
  }
  // Writes a whole record at `position`; returns its size in the ring.
  std::uint64_t put(std::uint64_t position, RecordKind kind,
                    std::string_view payload) const noexcept {
    const RecordHeader header{static_cast<std::uint32_t>(payload.size()), kind};
    std::memcpy(data_ + (position & mask_), &header, sizeof header);
    write(position + sizeof header, payload.data(), payload.size());
    return record_size(payload.size());
  }

 private:
  std::byte* data_;
  std::uint64_t mask_;
};

// Releases a robust mutex (the writer or reader lock) at the end of a scope.
class Release {
 public:
  explicit Release(RobustMutex& mutex) noexcept : mutex_(mutex) {}
  ~Release() { mutex_.unlock(); }
  Release(const Release&) = delete;
  Release& operator=(const Release&) = delete;

 private:
  RobustMutex& mutex_;
};

// The ring's mutex, held for one critical section. A lock that finds the
// previous owner dead recovers the ring before anything else runs.
class RingQueue::Guard {
 public:
  Guard(RingLayout& layout, const weft::detail::Deadline& deadline) : layout_(layout) {
    acquire(deadline);
  }
  ~Guard() { unlock(); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  explicit operator bool() const noexcept { return owned_; }

  void unlock() noexcept {
    if (owned_) layout_.mutex.unlock();
    owned_ = false;
  }

  // Wakes whoever sleeps on `wakeup`, commits `next`, then unlocks. The
  // sleepers are woken while the mutex is held: they wait for it, and if
  // this process dies before unlocking, whoever takes the mutex next
  // recovers the commit. (Woken after the unlock, they could sleep on for
  // good should this process die in between: the mutex would be clean and
  // the count already zero.)
  void commit_and_notify(const RingState& next, Wakeup& wakeup) noexcept {
    if (wakeup.claim()) wakeup.wake();
    layout_.commit(next);
    unlock();
  }

  // Sleeps on `wakeup` with the mutex released; returns with it released.
  // Returns false if the deadline passed.
  bool sleep(Wakeup& wakeup, const weft::detail::Deadline& deadline) {
    const std::uint32_t seen = wakeup.seq.load(std::memory_order_relaxed);
    ++wakeup.sleepers;
    unlock();
    const bool woken = weft::detail::futex_wait(wakeup.seq, seen, deadline,
                                                weft::detail::FutexScope::process_shared);
    // Not claimed (a timeout or a spurious wake-up): still counted.
    acquire(std::nullopt);
    if (wakeup.seq.load(std::memory_order_relaxed) == seen && wakeup.sleepers > 0)
      --wakeup.sleepers;
    unlock();
    return woken;
  }

 private:
  static constexpr int kLockSpins = 24;

  void acquire(const weft::detail::Deadline& deadline) {
    // Critical sections are a few hundred instructions: a short spin
    // usually outlasts one, and costs far less than sleeping in the kernel.
    RobustMutex::Locked locked = layout_.mutex.try_lock();
    for (int spin = 1; locked == RobustMutex::Locked::no && spin <= kLockSpins; ++spin) {
      for (int i = 0; i < spin; ++i) weft::detail::cpu_relax();
      locked = layout_.mutex.try_lock();
    }
    if (locked == RobustMutex::Locked::no) locked = layout_.mutex.lock(deadline);
    owned_ = locked != RobustMutex::Locked::no;
    if (locked == RobustMutex::Locked::owner_died) layout_.recover();
  }

  RingLayout& layout_;
  bool owned_ = false;
};

}  // namespace weft::mp::detail
