// weft/mp/manager/queue_proxy.hpp — QueueProxy<T>: a queue held by a
// manager's server, Python's manager.Queue() and manager.JoinableQueue().
//
// Any number of processes put and get T items through it; items travel as
// their weft::codec encoding and the server holds the encodings, so T need
// only be encodable. It is Python's queue.Queue: FIFO, bounded by maxsize
// (0: unbounded), with task_done/join completion tracking (both typeids
// make the same queue, as in Python) and 3.13's shutdown.
//
// Each blocking call comes in Python's forms and a non-throwing one (the
// try_ forms cost no exception on either side of the wire):
//   put(x) / put(x, false) / put(x, 100ms) / put(x, true, 100ms) /
//   put_nowait(x)      throw queue Full (weft/queue/errors.hpp) when there
//                      is no room in time
//   try_put(x[, timeout])  returns false instead
//   get() / get(false) / get(100ms) / get_nowait()  throw Empty likewise
//   try_get([timeout])     returns std::nullopt instead
// A negative timeout throws ValueError; after shutdown(), put throws
// ShutDown and get does once the queue is drained. A timeout is any
// std::chrono duration.
//
// Blocking: put/get/join block the calling thread until the server
// answers; everything else is one round trip. A consumer that dies while
// blocked in get() takes no item with it (an item the server took for it
// just as it died goes back, to the end of the queue); one killed after
// the server sent it an item and before it read it loses that item (as in
// Python).
//
// Errors: what the server raised, with its type (Empty, Full, ShutDown,
// ValueError); codec::DecodeError if an item is not a T (a queue shared
// with clients of another item type); ManagerGoneError when the manager
// is gone.
//
// Thread-safety: every member may be called from any thread of any
// process, on any copy.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>

#include "weft/codec.hpp"
#include "weft/mp/manager/detail/wire_timeout.hpp"
#include "weft/mp/manager/proxy.hpp"
#include "weft/queue/errors.hpp"

namespace weft::mp {

template <class T>
class QueueProxy : public BaseProxy {
 public:
  explicit QueueProxy(BaseProxy base) noexcept : BaseProxy(std::move(base)) {}

  // Python's put(item, block, timeout). Throws Full, ShutDown.
  void put(const T& item, bool block = true, detail::ProxyTimeout timeout = std::nullopt) const {
    callmethod("put", codec::encode(item), block, detail::wire_timeout(timeout));
  }
  void put(const T& item, std::chrono::duration<double> timeout) const { put(item, true, timeout); }
  void put_nowait(const T& item) const { put(item, false); }
  // Without a timeout, does not wait; with one, waits at most that long.
  // Returns whether the item was put. Throws ShutDown.
  bool try_put(const T& item, detail::ProxyTimeout timeout = std::nullopt) const {
    return callmethod<bool>("try_put", codec::encode(item), timeout.has_value(),
                            detail::wire_timeout(timeout));
  }

  // Python's get(block, timeout). Throws Empty, ShutDown.
  T get(bool block = true, detail::ProxyTimeout timeout = std::nullopt) const {
    return codec::decode<T>(callmethod<std::string>("get", block, detail::wire_timeout(timeout)));
  }
  T get(std::chrono::duration<double> timeout) const { return get(true, timeout); }
  T get_nowait() const { return get(false); }
  // Without a timeout, does not wait; with one, waits at most that long.
  // Returns the item, or std::nullopt if none came. Throws ShutDown.
  std::optional<T> try_get(detail::ProxyTimeout timeout = std::nullopt) const {
    auto item = callmethod<std::optional<std::string>>("try_get", timeout.has_value(),
                                                       detail::wire_timeout(timeout));
    if (!item) return std::nullopt;
    return codec::decode<T>(*item);
  }

  // Snapshots: another process may change the answer at once.
  std::size_t qsize() const { return callmethod<std::size_t>("qsize"); }
  bool empty() const { return callmethod<bool>("empty"); }
  bool full() const { return callmethod<bool>("full"); }
  std::size_t maxsize() const { return callmethod<std::size_t>("maxsize"); }

  // Retires one unfinished task. Throws ValueError if there is none.
  void task_done() const { callmethod("task_done"); }
  // Blocks until every item put has been retired by task_done().
  void join() const { callmethod<bool>("join", std::optional<double>{}); }
  // Beyond Python: waits at most `timeout`; returns false if tasks remain.
  bool join(std::chrono::duration<double> timeout) const {
    return callmethod<bool>("join", std::optional<double>(timeout.count()));
  }

  // Python 3.13's shutdown(immediate): see weft/queue.hpp.
  void shutdown(bool immediate = false) const { callmethod("shutdown", immediate); }
};

}  // namespace weft::mp
