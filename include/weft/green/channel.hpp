// weft/green/channel.hpp — weft::green::Channel<T>, gevent.queue.Channel: a
// queue with no room at all. Each item passes straight from a putter to a
// getter; neither side goes on until the other has come.
//
//   put(x)                 parks until a getter takes x (at once if one
//                          is already parked: x goes into its hands)
//   put(x, false)          does not wait: throws weft::Full unless a getter
//                          is already parked
//   put(x, true, 100ms)    waits at most 100 ms for a getter, then throws
//                          weft::Full
//   put_nowait(x)          = put(x, false)
//   try_put(std::move(x)[, timeout])   returns false instead of throwing,
//                          and leaves x untouched when it fails
//   get() / get(false) / get(true, timeout) / get_nowait()   the same from
//                          the other side: take the item of the longest
//                          parked putter (and let it go on), or park until
//                          a putter comes; throw weft::Empty when none came
//   try_get([timeout])     returns std::nullopt instead of throwing
// A timeout of zero or less does not wait. The non-waiting forms never
// park or switch.
//
// Fairness: parked getters receive items, and parked putters are taken
// from, strictly in the order they began to wait. A putter whose timeout
// fires, or into which an exception is thrown, after a getter took its item
// still had it delivered (put() then returns / the exception propagates).
// A getter that an exception reaches after an item was put into its hands
// passes the item to the next parked getter; if none waits, the channel
// keeps it for the next get() (qsize() counts such items, normally none):
// no item is ever lost.
//
// shutdown(immediate) has the queues' Python 3.13 semantics: afterwards
// put() throws weft::ShutDown, and so do putters already parked (their
// items stay with them); get() throws ShutDown once nothing is kept, waking
// parked getters to do so. shutdown(true) also drops what is kept. The try_
// forms throw ShutDown too: it is not a timeout.
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. A wait that nothing can end raises LoopExit
// (naming "Channel.get" or "Channel.put").
//
// T may be move-only; items are moved from hand to hand, never copied.
//
// Thread-safety: a channel belongs to the hub of one thread; use it only
// from greenlets of that thread. Not copyable or movable; destroying one
// that greenlets wait on is undefined behaviour.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <utility>

#include "weft/green/detail/wait_list.hpp"
#include "weft/queue/errors.hpp"

namespace weft::green {

template <class T>
class Channel {
 public:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  void put(T item, bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    if (!put_item(item, block, detail::deadline_for(timeout))) throw Full();
  }
  void put_nowait(T item) { put(std::move(item), false); }
  bool try_put(T&& item) { return put_item(item, false, std::nullopt); }
  bool try_put(T&& item, std::chrono::duration<double> timeout) {
    return put_item(item, true, detail::deadline_for(timeout));
  }

  T get(bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    std::optional<T> item = get_item(block, detail::deadline_for(timeout));
    if (!item) throw Empty();
    return std::move(*item);
  }
  T get_nowait() { return get(false); }
  std::optional<T> try_get() { return get_item(false, std::nullopt); }
  std::optional<T> try_get(std::chrono::duration<double> timeout) {
    return get_item(true, detail::deadline_for(timeout));
  }

  // Never block. How many greenlets are parked in get() / in put(), and
  // gevent's balance: putting() - getting().
  std::size_t getting() const noexcept { return getters_.size(); }
  std::size_t putting() const noexcept { return putters_.size(); }
  long long balance() const noexcept {
    return static_cast<long long>(putters_.size()) - static_cast<long long>(getters_.size());
  }
  // Items kept for the next get() (see the top of this file); normally 0.
  std::size_t qsize() const noexcept { return kept_.size(); }
  bool empty() const noexcept { return kept_.empty(); }
  // Always true, as in gevent: there is never room to leave an item in.
  bool full() const noexcept { return true; }

  // See the top of this file. Never blocks or switches.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) kept_.clear();
    putters_.notify_all(kShutDown);
    getters_.notify_all(kShutDown);
  }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  static constexpr detail::Notice kHandedOver = detail::kNotified;  // the item went to the other side
  static constexpr detail::Notice kShutDown = 2;

  // Moves from `item` only if a getter received it. Returns false when no
  // getter came (not blocking, or the deadline passed). Throws ShutDown.
  bool put_item(T& item, bool block, const detail::Deadline& deadline) {
    if (shutdown_) throw ShutDown();
    if (hand_to_getter(item)) return true;
    if (!block) return false;
    // A getter moves the item out of this frame while it is parked here.
    detail::Waiter waiter(putters_, &item);
    const detail::Notice notice = waiter.wait("Channel.put", deadline);
    if (notice == kShutDown) throw ShutDown();
    return notice == kHandedOver;
  }

  // Returns nothing when no putter came (not blocking, or the deadline
  // passed). Throws ShutDown once shut down with nothing kept.
  std::optional<T> get_item(bool block, const detail::Deadline& deadline) {
    if (!kept_.empty()) {
      std::optional<T> item(std::in_place, std::move(kept_.front()));
      kept_.pop_front();
      return item;
    }
    if (auto* offered = static_cast<T*>(putters_.front_payload())) {
      std::optional<T> item(std::in_place, std::move(*offered));
      putters_.notify_one(kHandedOver);
      return item;
    }
    if (shutdown_) throw ShutDown();
    if (!block) return std::nullopt;
    // A putter moves its item into `received` while this greenlet is parked.
    std::optional<T> received;
    const detail::Notice notice = detail::wait_for_notice(
        getters_, "Channel.get", deadline,
        [this, &received](detail::Notice given) noexcept {
          if (given == kHandedOver) pass_on(std::move(*received));
        },
        &received);
    if (notice == kHandedOver) return received;
    if (notice == kShutDown) throw ShutDown();
    return std::nullopt;
  }

  // Puts `item` into the hands of the longest-parked getter, if any.
  bool hand_to_getter(T& item) {
    auto* hands = static_cast<std::optional<T>*>(getters_.front_payload());
    if (hands == nullptr) return false;
    hands->emplace(std::move(item));
    getters_.notify_one(kHandedOver);
    return true;
  }

  // An item whose getter could not take it goes to the next one, or is
  // kept for the next get().
  void pass_on(T&& item) noexcept {
    if (!hand_to_getter(item)) kept_.push_back(std::move(item));
  }

  detail::WaitList getters_;
  detail::WaitList putters_;
  std::deque<T> kept_;
  bool shutdown_ = false;
};

}  // namespace weft::green
