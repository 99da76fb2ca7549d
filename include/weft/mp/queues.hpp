// weft/mp/queues.hpp — Python's multiprocessing queues: Queue<T>,
// SimpleQueue<T> and JoinableQueue<T>, shared by any number of producer and
// consumer processes and threads.
//
// Items live in shared memory (a ring of bytes in a SharedBlock), not in a
// pipe fed by a background thread as in Python. Consequences:
//   * put() returns once the item is in shared memory. It is delivered even
//     if its producer exits, _exits or is SIGKILLed right afterwards; there
//     is no feeder thread to flush, so join_thread() and
//     cancel_join_thread() have nothing to do.
//   * The ring has a byte capacity (QueueOptions::capacity, default 4 MiB;
//     memory is committed only as it is touched). When it is out of bytes
//     put() blocks, honouring its timeout, and a non-blocking put() raises
//     Full: the one difference from Python, whose feeder buffer grows
//     without bound. An item larger than the whole ring still gets through:
//     it is streamed in chunks while a consumer collects them, so its put()
//     waits for a consumer (a non-blocking one raises Full unless every
//     chunk fits at once).
//   * A process that dies inside put() or get() — even SIGKILLed while
//     holding the ring's lock — leaves the queue usable: an item whose put()
//     returned is neither lost nor duplicated (unless a consumer died
//     holding it, as it would after get() returned). Python's queue is
//     corrupted for good when that happens.
//
// Items: a trivially copyable T that is not a pointer travels as its bytes
// (it must not hold pointers); any other T goes through weft::codec and
// must be encodable (see weft/codec.hpp). An item that fails to decode is
// consumed and its get() throws codec::DecodeError.
//
// Calls mirror weft::Queue (weft/queue.hpp):
//   put(x)                blocks until there is room
//   put(x, false)         Python's put(x, block=False): throws Full
//   put(x, 100ms)         waits at most 100 ms, then throws Full
//   put_nowait(x)         = put(x, false)
//   try_put(x[, timeout]) returns false instead of throwing
//   get() / get(false) / get(timeout) / get_nowait()  throw Empty likewise
//   try_get([timeout])    returns std::nullopt instead of throwing
// A negative timeout counts as 0 (Python's, whose queue waits are timed
// acquisitions of a semaphore). maxsize counts items, as in Python
// (0: unbounded). qsize(), empty() and full() are snapshots that another
// process may change at once ("approximate", Python says).
//
// close() means "this process puts and gets no more": afterwards put() and
// get() in this process throw ValueError("Queue is closed"). It does not
// affect other processes, nor children forked later (Python resets the flag
// in a child too). Closing is not needed to free anything: the queue's
// memory goes when the last handle in the last process does.
//
// Handles are cheap to copy; copies refer to the same queue. A child
// started with fork inherits the queue as it is. A child started with spawn
// or forkserver receives it as a Process argument (the msgpack adaptors at
// the end of this file hand over the shared block's descriptor); encoding
// a queue outside a Process start throws codec::EncodeError, as Python
// refuses to pickle a Queue except through inheritance.
//
// Thread- and process-safety: every member may be called concurrently from
// any thread of any process holding the queue.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>

#include "weft/codec/detail/msgpack.hpp"

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/mp/detail/resource_sharer.hpp"
#include "weft/mp/detail/ring_queue.hpp"
#include "weft/mp/detail/shared_block.hpp"
#include "weft/queue/errors.hpp"

namespace weft::mp {

// How a queue is built, beyond Python's maxsize.
struct QueueOptions {
  // Bytes of shared memory for items in flight, rounded up to a power of
  // two of at least 4 KiB; at most 1 GiB (more throws ValueError). Each item
  // takes its size (sizeof(T), or its encoding) plus 8 to 15 bytes.
  std::size_t capacity = detail::RingQueue::default_capacity;
};

namespace detail {

// Whether T travels as its bytes rather than through the codec.
template <class T>
inline constexpr bool raw_item =
    std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && !std::is_member_pointer_v<T>;

template <class T>
inline constexpr std::uint32_t item_size = raw_item<T> ? sizeof(T) : 0;

// A per-thread buffer for encodings, so that steady traffic does not
// allocate. One that grew for a large item is given back afterwards.
class Scratch {
 public:
  Scratch() noexcept { buffer().clear(); }
  ~Scratch() {
    if (buffer().capacity() > kKeep) std::string().swap(buffer());
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  std::string& bytes() noexcept { return buffer(); }

 private:
  static constexpr std::size_t kKeep = 64 * 1024;
  static std::string& buffer() noexcept {
    thread_local std::string scratch;
    return scratch;
  }
};

template <class T>
bool put_item(RingQueue& ring, const T& item, bool block, const weft::detail::Deadline& deadline) {
  if constexpr (raw_item<T>) {
    return ring.put(std::string_view(reinterpret_cast<const char*>(&item), sizeof(T)), block,
                    deadline);
  } else {
    Scratch scratch;
    Loans loans;  // a socket in `item` stays lent only if the item is put
    loans.record([&] { codec::encode_into(scratch.bytes(), item); });
    if (!ring.put(scratch.bytes(), block, deadline)) return false;
    loans.keep();
    return true;
  }
}

template <class T>
std::optional<T> get_item(RingQueue& ring, bool block, const weft::detail::Deadline& deadline) {
  Scratch scratch;
  if (!ring.get(scratch.bytes(), block, deadline)) return std::nullopt;
  if constexpr (raw_item<T>) {
    if (scratch.bytes().size() != sizeof(T))
      throw codec::DecodeError("a queue item has " + std::to_string(scratch.bytes().size()) +
                               " bytes, not " + std::to_string(sizeof(T)));
    alignas(T) unsigned char raw[sizeof(T)];
    std::memcpy(raw, scratch.bytes().data(), sizeof(T));
    return *std::launder(reinterpret_cast<T*>(raw));
  } else {
    return codec::decode<T>(scratch.bytes());
  }
}

// The adaptors' way to a queue's engine and back.
struct QueueAccess {
  template <class Q>
  static const std::shared_ptr<RingQueue>& ring(const Q& queue) noexcept {
    return queue.ring_;
  }
  template <class Q>
  static Q from_parent(std::uint32_t token, QueueKind kind) {
    return Q(std::make_shared<RingQueue>(SharedBlock::from_parent(token), kind,
                                         item_size<typename Q::value_type>));
  }
};

}  // namespace detail

// Python's multiprocessing.Queue: a FIFO bounded at `maxsize` items
// (0: unbounded) and by its ring's bytes.
template <class T>
class Queue {
 public:
  using value_type = T;

  // Creates the queue's shared memory. Throws ValueError for a capacity
  // above 1 GiB, std::system_error if the memory cannot be had.
  explicit Queue(std::size_t maxsize = 0, QueueOptions options = {})
      : Queue(detail::QueueKind::queue, maxsize, options) {}

  // Blocking forms wait for room; the bool and timeout forms throw Full.
  // All throw ValueError after close() in this process.
  void put(const T& item) { put_or_full(item, true, std::nullopt); }
  void put(const T& item, bool block) { put_or_full(item, block, std::nullopt); }
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put_or_full(item, true, weft::detail::deadline_after_clamped(timeout));
  }
  void put_nowait(const T& item) { put(item, false); }

  // As put(item, false) / put(item, timeout), returning false for Full.
  bool try_put(const T& item) { return detail::put_item(*ring_, item, false, std::nullopt); }
  template <class Rep, class Period>
  bool try_put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    return detail::put_item(*ring_, item, true, weft::detail::deadline_after_clamped(timeout));
  }

  // Blocking forms wait for an item; the bool and timeout forms throw
  // Empty. All throw ValueError after close() in this process, and
  // codec::DecodeError for an item that does not decode as a T.
  T get() { return *detail::get_item<T>(*ring_, true, std::nullopt); }
  T get(bool block) { return value_or_empty(detail::get_item<T>(*ring_, block, std::nullopt)); }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return value_or_empty(detail::get_item<T>(*ring_, true, weft::detail::deadline_after_clamped(timeout)));
  }
  T get_nowait() { return get(false); }

  std::optional<T> try_get() { return detail::get_item<T>(*ring_, false, std::nullopt); }
  template <class Rep, class Period>
  std::optional<T> try_get(std::chrono::duration<Rep, Period> timeout) {
    return detail::get_item<T>(*ring_, true, weft::detail::deadline_after_clamped(timeout));
  }

  // Snapshots. Never block.
  std::size_t qsize() const noexcept { return ring_->qsize(); }
  bool empty() const noexcept { return ring_->qsize() == 0; }
  bool full() const noexcept { return ring_->full(); }
  std::size_t maxsize() const noexcept { return ring_->maxsize(); }
  // The ring's byte capacity, after rounding.
  std::size_t capacity() const noexcept { return ring_->capacity(); }

  // This process will put and get no more (see the top of this file).
  // Idempotent; never blocks.
  void close() noexcept { ring_->close(); }

  // Python waits here for the feeder thread to flush the items this process
  // put. Here every put() that returned is already in shared memory, so
  // there is nothing to wait for: returns at once. Throws RuntimeError if
  // the queue was not closed in this process, as Python asserts.
  void join_thread() const {
    if (!ring_->closed()) throw RuntimeError("Queue not closed");
  }
  // Python's way to exit without flushing; with nothing to flush, a no-op.
  void cancel_join_thread() const noexcept {}

 protected:
  Queue(detail::QueueKind kind, std::size_t maxsize, const QueueOptions& options)
      : ring_(std::make_shared<detail::RingQueue>(kind, maxsize, options.capacity,
                                                  detail::item_size<T>)) {}
  explicit Queue(std::shared_ptr<detail::RingQueue> ring) noexcept : ring_(std::move(ring)) {}

  std::shared_ptr<detail::RingQueue> ring_;

 private:
  friend struct detail::QueueAccess;

  void put_or_full(const T& item, bool block, const weft::detail::Deadline& deadline) {
    if (!detail::put_item(*ring_, item, block, deadline)) throw Full();
  }
  static T value_or_empty(std::optional<T>&& item) {
    if (!item) throw Empty();
    return std::move(*item);
  }
};

// Python's multiprocessing.JoinableQueue: a Queue that counts unfinished
// tasks. Every put() adds one, in the same step that makes the item
// visible; task_done() retires one; join() waits until none is left, in
// any process.
template <class T>
class JoinableQueue : public Queue<T> {
 public:
  explicit JoinableQueue(std::size_t maxsize = 0, QueueOptions options = {})
      : Queue<T>(detail::QueueKind::joinable, maxsize, options) {}

  // Retires one task. Never blocks for long. Throws ValueError("task_done()
  // called too many times") if none is unfinished.
  void task_done() { this->ring_->task_done(); }
  // Blocks until every task put, by any process, has been retired.
  void join() { this->ring_->join(std::nullopt); }
  // Beyond Python: waits at most `timeout`; returns false if tasks remain.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return this->ring_->join(weft::detail::deadline_after_clamped(timeout));
  }
  // A snapshot of the count join() waits for.
  std::size_t unfinished_tasks() const noexcept { return this->ring_->unfinished_tasks(); }

 private:
  friend struct detail::QueueAccess;
  explicit JoinableQueue(std::shared_ptr<detail::RingQueue> ring) noexcept
      : Queue<T>(std::move(ring)) {}
};

// Python's multiprocessing.SimpleQueue: put, get, empty, close. Unbounded in
// items; put() blocks only while the ring is out of bytes.
template <class T>
class SimpleQueue {
 public:
  using value_type = T;

  explicit SimpleQueue(QueueOptions options = {})
      : ring_(std::make_shared<detail::RingQueue>(detail::QueueKind::simple, 0, options.capacity,
                                                  detail::item_size<T>)) {}

  // Blocks while the ring is out of bytes. Throws ValueError after close()
  // in this process.
  void put(const T& item) { detail::put_item(*ring_, item, true, std::nullopt); }
  // Blocks until there is an item. Throws ValueError after close() in this
  // process, codec::DecodeError for an item that does not decode as a T.
  T get() { return *detail::get_item<T>(*ring_, true, std::nullopt); }
  // A snapshot; never blocks.
  bool empty() const noexcept { return ring_->qsize() == 0; }
  // This process will put and get no more. Idempotent; never blocks.
  void close() noexcept { ring_->close(); }

 private:
  friend struct detail::QueueAccess;
  explicit SimpleQueue(std::shared_ptr<detail::RingQueue> ring) noexcept
      : ring_(std::move(ring)) {}

  std::shared_ptr<detail::RingQueue> ring_;
};

namespace detail {

template <class Q>
struct QueueTraits;
template <class T>
struct QueueTraits<Queue<T>> {
  static constexpr QueueKind kind = QueueKind::queue;
  static constexpr const char* name = "Queue";
};
template <class T>
struct QueueTraits<JoinableQueue<T>> {
  static constexpr QueueKind kind = QueueKind::joinable;
  static constexpr const char* name = "JoinableQueue";
};
template <class T>
struct QueueTraits<SimpleQueue<T>> {
  static constexpr QueueKind kind = QueueKind::simple;
  static constexpr const char* name = "SimpleQueue";
};

// The msgpack adaptors of the three queues: the encoding is the token of
// the queue's shared block for the child being started.
template <class Q>
struct QueuePack {
  template <class Stream>
  msgpack::packer<Stream>& operator()(msgpack::packer<Stream>& out, const Q& queue) const {
    out.pack(QueueAccess::ring(queue)->share_with_child(QueueTraits<Q>::name));
    return out;
  }
};
template <class Q>
struct QueueAs {
  Q operator()(const msgpack::object& in) const {
    return QueueAccess::from_parent<Q>(in.as<std::uint32_t>(), QueueTraits<Q>::kind);
  }
};
template <class Q>
struct QueueConvert {
  const msgpack::object& operator()(const msgpack::object& in, Q& queue) const {
    queue = QueueAs<Q>()(in);
    return in;
  }
};

}  // namespace detail
}  // namespace weft::mp

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
namespace adaptor {

template <class T>
struct pack<weft::mp::Queue<T>> : weft::mp::detail::QueuePack<weft::mp::Queue<T>> {};
template <class T>
struct as<weft::mp::Queue<T>> : weft::mp::detail::QueueAs<weft::mp::Queue<T>> {};
template <class T>
struct convert<weft::mp::Queue<T>> : weft::mp::detail::QueueConvert<weft::mp::Queue<T>> {};

template <class T>
struct pack<weft::mp::JoinableQueue<T>>
    : weft::mp::detail::QueuePack<weft::mp::JoinableQueue<T>> {};
template <class T>
struct as<weft::mp::JoinableQueue<T>> : weft::mp::detail::QueueAs<weft::mp::JoinableQueue<T>> {};
template <class T>
struct convert<weft::mp::JoinableQueue<T>>
    : weft::mp::detail::QueueConvert<weft::mp::JoinableQueue<T>> {};

template <class T>
struct pack<weft::mp::SimpleQueue<T>> : weft::mp::detail::QueuePack<weft::mp::SimpleQueue<T>> {};
template <class T>
struct as<weft::mp::SimpleQueue<T>> : weft::mp::detail::QueueAs<weft::mp::SimpleQueue<T>> {};
template <class T>
struct convert<weft::mp::SimpleQueue<T>>
    : weft::mp::detail::QueueConvert<weft::mp::SimpleQueue<T>> {};

}  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
