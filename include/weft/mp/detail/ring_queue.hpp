// weft/mp/detail/ring_queue.hpp — the process-shared engine under
// mp::Queue, mp::SimpleQueue and mp::JoinableQueue: a ring of
// variable-length byte records in a SharedBlock.
//
// The ring's bookkeeping (head, tail, item and task counts) changes only
// under a robust mutex in the block and only through a journalled commit:
// a record is written completely before the tail that publishes it moves.
// A process that dies anywhere inside put() or get() therefore leaves the
// ring as it was before or after its operation; the next locker is told the
// owner died, replays the journal, wakes every sleeper, and carries on.
//
// Sleepers park on futex words beside the mutex; a waker makes a system
// call only when someone sleeps, so an uncontended put or get makes none.
// A consumer that finds the ring empty, or a producer that finds it full,
// polls it for a few microseconds before sleeping, and a contended mutex is
// spun on briefly before the kernel is asked to wait.
//
// An item whose record does not fit in the ring travels as a stream of
// chunks, written by one producer at a time (it holds the ring's writer
// lock) and read by one consumer at a time (the reader lock). A stream whose
// producer gives up or dies before its last chunk is discarded by its
// reader; one whose reader dies is drained by the next consumer.
//
// Thread-safety: every member may be called concurrently from any thread of
// any process that maps the block.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/shared_block.hpp"

namespace weft::mp::detail {

// Which public queue a block serves; part of its identity when a child
// attaches to it.
enum class QueueKind : std::uint32_t { queue = 1, simple = 2, joinable = 3 };

// What the shared bookkeeping looks like; defined in the source.
struct RingLayout;

class RingQueue {
 public:
  // The default byte capacity of the ring.
  static constexpr std::size_t default_capacity = std::size_t{4} << 20;
  // Capacities are rounded up to a power of two between these bounds.
  static constexpr std::size_t min_capacity = 4096;
  static constexpr std::size_t max_capacity = std::size_t{1} << 30;

  // A new queue bounded at `maxsize` items (0: unbounded) in a ring of at
  // least `capacity` bytes. `item_size` is sizeof(T) for items that travel
  // as raw bytes, 0 for encoded ones (checked when a child attaches).
  // Throws ValueError for a capacity above max_capacity, std::system_error
  // if the block cannot be created.
  RingQueue(QueueKind kind, std::size_t maxsize, std::size_t capacity, std::uint32_t item_size);

  // The queue living in `block`, as a child sees it. Throws
  // codec::DecodeError if the block holds no queue of this kind and item
  // size.
  RingQueue(std::shared_ptr<SharedBlock> block, QueueKind kind, std::uint32_t item_size);

  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;

  // Appends one item. Blocks (until `deadline`, when `block`) while the
  // queue holds maxsize items or the ring lacks the bytes. Returns false if
  // it could not append in time. Throws ValueError if this process closed
  // the queue.
  bool put(std::string_view bytes, bool block, const weft::detail::Deadline& deadline);

  // Takes the oldest item into `out` (replacing its contents). Blocks (until
  // `deadline`, when `block`) while there is none. Returns false if none
  // came in time. Once it has begun receiving an item larger than the
  // ring it waits for the rest, which its producer is writing. Throws
  // ValueError if this process closed the queue.
  bool get(std::string& out, bool block, const weft::detail::Deadline& deadline);

  // Snapshots, stale as soon as they return.
  std::size_t qsize() const noexcept;
  bool full() const noexcept;
  std::size_t maxsize() const noexcept;
  std::size_t capacity() const noexcept;

  // Retires one unfinished task (joinable queues); throws ValueError if
  // none is left.
  void task_done();
  // Waits until no task is unfinished; false if the deadline passed first.
  bool join(const weft::detail::Deadline& deadline);
  std::size_t unfinished_tasks() const noexcept;

  // Refuses further put() and get() in this process only, as Python's
  // close() does; other processes, and children forked later, are not
  // affected.
  void close() noexcept;
  bool closed() const noexcept;

  // How many times a locker found the ring's previous owner dead and
  // recovered it (for tests and diagnostics).
  std::uint64_t recoveries() const noexcept;

  // The token under which a child being started finds this queue's block;
  // `what` names the queue in the error raised outside a start.
  std::uint32_t share_with_child(const char* what) const;

 private:
  class Guard;

  void check_open() const;
  bool put_stream(std::string_view bytes, bool block, const weft::detail::Deadline& deadline);
  bool receive_rest(std::string& out, bool discard);
  bool wait_for_writer(bool block, const weft::detail::Deadline& deadline);
  bool wait_for_reader(bool block, const weft::detail::Deadline& deadline);
  void check_writer_alive();
  void abandon_stream();

  std::shared_ptr<SharedBlock> block_;
  RingLayout* layout_;
  std::byte* ring_;
  std::atomic<pid_t> closed_by_{0};
};

}  // namespace weft::mp::detail
