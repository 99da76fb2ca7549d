// weft/dist/queue.hpp — weft::dist::Queue<T>: Python's queue.Queue whose
// items live in Redis, shared by every process, on every host, that opens
// the same name.
//
//   dist::Queue<Job> jobs("redis://10.0.0.5:6379/0", "jobs", 1000);  // maxsize 1000
//   jobs.put(job);                 // blocks while 1000 items are waiting
//   Job next = jobs.get();         // blocks until an item arrives
//   jobs.task_done();  jobs.join();
//
// Items are codec-encoded (weft/codec.hpp), so T is anything the codec
// takes, except that a descriptor (an mp::Connection, a net::Socket) is
// refused with codec::EncodeError: no other machine could use it. FIFO across all processes. Blocking calls wait in Redis (BLPOP,
// a subscription), never by polling: a get() wakes when a put() anywhere
// lands, a put() blocked on a full queue when a get() anywhere frees room,
// join() when the last task_done() anywhere is called.
//
// maxsize is this handle's: every handle of one queue should pass the same
// (0: unbounded). A put and its count of unfinished items are one script
// in Redis, and so is a non-blocking get; a blocking get is BLPOP, then
// a wake-up for a putter blocked on a full queue: the size bound holds
// across processes.
//
// Errors: Empty / Full (weft/queue.hpp) where Python raises them, with
// try_ forms returning std::optional / bool; ValueError from task_done()
// called more times than items were put, and for a negative or NaN
// timeout (one too long to represent waits forever);
// RedisConnectionError when Redis cannot be reached within
// ConnectOptions::connect_timeout; codec::DecodeError for an item that is
// not a T (it is consumed).
//
// A broken connection: every call reconnects and repeats its command, up
// to connect_timeout. Repeating is exact when the command never reached
// Redis (a server restarted while the connection sat idle). When Redis did
// run it and only the reply was lost: a put() stores its item a second time
// (at-least-once: the item is never lost), a task_done() counts a second
// time, and a get() has taken an item that nobody receives (at-most-once:
// no item is ever received twice). A blocking call waits in Redis for at
// most 2 s at a time, so a server that went away is noticed even by a call
// that waits forever.
//
// Every member but maxsize() and name() talks to Redis, so it blocks for
// at least one round trip.
//
// Thread-safety: every member may be called from any thread (each blocking
// call uses a connection of its own from the handle's pool). Process-safe
// and host-safe through Redis.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/dist/detail/encode.hpp"
#include "weft/dist/redis.hpp"
#include "weft/queue/errors.hpp"

namespace weft::dist {

namespace detail {

// The untyped queue: encoded items.
class QueueCore {
 public:
  QueueCore(std::string_view redis_url, std::string name, std::size_t maxsize, ConnectOptions options);
  ~QueueCore();
  // nullopt timeout: wait forever. False when full after the timeout (or
  // at once when !block).
  bool put(std::string item, bool block, std::optional<std::chrono::nanoseconds> timeout);
  // nullopt when empty after the timeout (or at once when !block).
  std::optional<std::string> get(bool block, std::optional<std::chrono::nanoseconds> timeout);
  void task_done();
  // False on timeout.
  bool join(std::optional<std::chrono::nanoseconds> timeout);
  std::size_t qsize();
  std::size_t maxsize() const noexcept { return maxsize_; }
  const std::string& name() const noexcept { return name_; }
  // Deletes the queue's keys (its items and counters) from Redis.
  void destroy();

 private:
  struct State;  // the connection pool, the scripts, the key names
  std::string name_;
  std::size_t maxsize_;
  std::unique_ptr<State> state_;
};

}  // namespace detail

template <class T>
class Queue {
 public:
  // Connects; throws ValueError for a bad URL, name or `options` (see
  // ConnectOptions), RedisConnectionError if Redis cannot be reached.
  Queue(std::string_view redis_url, std::string name, std::size_t maxsize = 0, ConnectOptions options = {})
      : core_(redis_url, std::move(name), maxsize, options) {}

  // Blocks while the queue is full (for at most `timeout`); throws Full
  // when still full, at once if !block.
  void put(const T& item, bool block = true, std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    if (!core_.put(detail::encode_off_machine(item), block, timeout)) throw Full();
  }
  // Any duration: one too long for nanoseconds waits for ever.
  template <class Rep, class Period>
  void put(const T& item, bool block, std::chrono::duration<Rep, Period> timeout) {
    put(item, block, std::optional(weft::detail::ceil_nanoseconds_saturated(timeout)));
  }
  template <class Rep, class Period>
  void put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    put(item, true, timeout);
  }
  void put_nowait(const T& item) { put(item, false); }
  // put without the exception: false when full.
  bool try_put(const T& item, std::optional<std::chrono::nanoseconds> timeout = std::chrono::nanoseconds(0)) {
    return core_.put(detail::encode_off_machine(item), true, timeout);
  }
  template <class Rep, class Period>
  bool try_put(const T& item, std::chrono::duration<Rep, Period> timeout) {
    return try_put(item, std::optional(weft::detail::ceil_nanoseconds_saturated(timeout)));
  }

  // Blocks until an item is there (for at most `timeout`); throws Empty
  // when none came, at once if !block.
  T get(bool block = true, std::optional<std::chrono::nanoseconds> timeout = std::nullopt) {
    auto item = core_.get(block, timeout);
    if (!item) throw Empty();
    return codec::decode<T>(*item);
  }
  template <class Rep, class Period>
  T get(bool block, std::chrono::duration<Rep, Period> timeout) {
    return get(block, std::optional(weft::detail::ceil_nanoseconds_saturated(timeout)));
  }
  template <class Rep, class Period>
  T get(std::chrono::duration<Rep, Period> timeout) {
    return get(true, timeout);
  }
  T get_nowait() { return get(false); }
  // get without the exception.
  std::optional<T> try_get(std::optional<std::chrono::nanoseconds> timeout = std::chrono::nanoseconds(0)) {
    auto item = core_.get(true, timeout);
    if (!item) return std::nullopt;
    return codec::decode<T>(*item);
  }
  template <class Rep, class Period>
  std::optional<T> try_get(std::chrono::duration<Rep, Period> timeout) {
    return try_get(std::optional(weft::detail::ceil_nanoseconds_saturated(timeout)));
  }

  // One put item is processed. Throws ValueError if called more times than
  // items were put (counted across every process).
  void task_done() { core_.task_done(); }
  // Blocks until every item ever put has had its task_done().
  void join() { core_.join(std::nullopt); }
  // join for at most `timeout`: false if items are still unfinished.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) {
    return core_.join(weft::detail::ceil_nanoseconds_saturated(timeout));
  }

  // Approximate, as in Python: other processes change it at any time.
  std::size_t qsize() { return core_.qsize(); }
  bool empty() { return qsize() == 0; }
  bool full() { return core_.maxsize() > 0 && qsize() >= core_.maxsize(); }
  std::size_t maxsize() const noexcept { return core_.maxsize(); }
  const std::string& name() const noexcept { return core_.name(); }

  // Removes the queue from Redis: its items, its unfinished count. Other
  // handles see an empty queue afterwards, and a join() waiting anywhere
  // returns; a put() blocked on the full queue elsewhere waits on for a
  // get(). Blocks for one round trip; throws RedisConnectionError.
  void destroy() { core_.destroy(); }

 private:
  detail::QueueCore core_;
};

}  // namespace weft::dist
