// weft/green/wait_objects.hpp — gevent.wait and gevent.iwait: waiting for
// whichever of several objects becomes ready first.
//
//   auto a = green::spawn(fetch, "a");
//   auto b = green::spawn(fetch, "b");
//   green::Event stop;
//   for (const green::Waitable& done : green::iwait({a, b, stop}, 5s)) {
//     if (done == stop) break;           // each as it becomes ready
//     std::cout << done.greenlet().name() << " finished\n";
//   }
//   auto first = green::wait({a, b}, std::nullopt, 1);   // parks for one
//
// A Waitable refers to a Greenlet (any Greenlet<T>; it keeps a handle), a
// green::Event or a green::AsyncResult<T> (by reference: the object must
// outlive the wait). These are weft's objects with gevent's rawlink
// protocol. A Greenlet is ready once finished, an Event once set(), an
// AsyncResult once set() or set_exception() — whether successful or not:
// wait() and iwait() never throw an object's exception, they only report
// that it is ready.
//
// iwait(objects, timeout, count) is a range that yields the objects as they
// become ready, in the order they did (those ready when iwait() is called
// first, in the given order), parking for each next one. It stops
// after `count` objects (default: all of them), or when `timeout` — counted
// from the first advance, for the whole iteration — passes with none ready;
// then it yields nothing more, as gevent's iterator stops. An object listed
// twice is yielded twice. The range links to the objects when iwait()
// makes it and unlinks when the iteration ends or the range is destroyed
// (gevent's context manager does so); it is used by one greenlet at a time.
// A range may be moved while a greenlet is parked advancing it (a
// std::vector<IWait> growing): the advance, and an iterator, go on with the
// moved-to range; a moved-from range yields nothing. Destroying it then
// (which Python's references rule out) wakes that greenlet, whose advance
// throws green::error.
//
// wait(objects, timeout, count) is the list of what iwait() yields: the
// ready objects in the order they became ready, at most `count` of them,
// returning when `count` are ready or `timeout` has passed (never throwing
// on timeout: what was ready so far is returned, possibly nothing).
//
// wait() with no objects is gevent's wait() for everything: Hub::join(),
// running the hub until every greenlet has finished. Unlike gevent it takes
// no timeout (a timer would keep the hub's loop busy until it fired) and it
// raises LoopExit, where gevent returns True, if greenlets stay parked with
// nothing to wake them.
//
// Blocking: wait() and advancing an iwait() range park the calling
// greenlet; from the main greenlet they run the hub until they return.
// With nothing ready, even a timeout of 0 (or one already passed) parks
// once, as gevent's switches to the hub: greenlets just spawned run first. A
// wait that nothing can end raises LoopExit naming "wait" (or "iwait"),
// unless an AsyncResult made with SetFrom::any_thread is among the objects
// not ready yet. They throw what is thrown into the parked greenlet
// (Timeout, GreenletExit), unlinking from every object on the way out (an
// iwait range whose advance threw is finished, as gevent's); green::error
// for an empty Greenlet handle; ValueError for a NaN timeout.
//
// Differences from gevent: gevent's wait and iwait take any object with
// rawlink(); here that is Greenlet, Event and AsyncResult (weft's Semaphore
// and the locks have no rawlink). Objects are returned as Waitable, which
// compares equal to the object it refers to and gives it back through
// greenlet(), event() and async_result().
//
// Thread-safety: the objects belong to the calling thread's hub; use these
// only from greenlets of that thread.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/green/async_result.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"

namespace weft::green {

// What wait() and iwait() take and give back: a Greenlet (a handle to it),
// an Event or an AsyncResult (a reference to it).
class Waitable {
 public:
  Waitable(const AnyGreenlet& greenlet) noexcept : object_(greenlet) {}
  Waitable(Event& event) noexcept : object_(&event) {}
  Waitable(detail::AsyncResultBase& result) noexcept : object_(&result) {}

  // Finished / set. Never blocks.
  bool ready() const noexcept;

  // The Greenlet it refers to; an empty handle if it is not one.
  AnyGreenlet greenlet() const noexcept;
  // The Event / AsyncResult it refers to; null if it is not one.
  Event* event() const noexcept;
  detail::AsyncResultBase* async_result() const noexcept;

  // Both refer to the same object (`done == stop` for an Event stop).
  friend bool operator==(const Waitable& a, const Waitable& b) noexcept { return a.object_ == b.object_; }

 private:
  std::variant<AnyGreenlet, Event*, detail::AsyncResultBase*> object_;
};

namespace detail {
class ReadySet;
}  // namespace detail

// The range iwait() returns. Movable, not copyable.
class IWait {
  struct State;

 public:
  IWait(std::vector<Waitable> objects, OptionalSeconds timeout, std::optional<std::size_t> count);
  IWait(IWait&&) noexcept;
  IWait& operator=(IWait&&) noexcept;
  ~IWait();

  // Parks for the next ready object; std::nullopt once `count` were
  // yielded or the timeout passed. See the top of this file.
  std::optional<Waitable> next();

  class iterator {
   public:
    using value_type = Waitable;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const Waitable& operator*() const noexcept { return *current_; }
    const Waitable* operator->() const noexcept { return &*current_; }
    iterator& operator++() {
      current_ = advance(state_);
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return !it.current_; }

   private:
    friend class IWait;
    explicit iterator(IWait& range) : state_(range.state_.get()), current_(advance(state_)) {}
    State* state_ = nullptr;  // goes with the range when it is moved
    std::optional<Waitable> current_;
  };

  // Advances once (parks) to the first object.
  iterator begin() { return iterator(*this); }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  // next() on `state`, null for a moved-from range.
  static std::optional<Waitable> advance(State* state);

  std::unique_ptr<State> state_;  // on the heap: a move leaves it in place
};

// gevent.iwait: the objects as they become ready (see the top of this
// file). Never blocks: advancing the range does. Throws green::error for
// an empty Greenlet handle, ValueError for a NaN timeout (here, not when
// the range is advanced).
IWait iwait(std::span<const Waitable> objects, OptionalSeconds timeout = std::nullopt,
            std::optional<std::size_t> count = std::nullopt);
inline IWait iwait(std::initializer_list<Waitable> objects, OptionalSeconds timeout = std::nullopt,
                   std::optional<std::size_t> count = std::nullopt) {
  return IWait(std::vector<Waitable>(objects), timeout, count);
}
// Any range of Greenlet<T> handles, Events or AsyncResults.
template <std::ranges::input_range R>
  requires(std::is_convertible_v<std::ranges::range_reference_t<R>, Waitable> &&
           !std::is_convertible_v<R, std::span<const Waitable>>)
IWait iwait(R&& objects, OptionalSeconds timeout = std::nullopt, std::optional<std::size_t> count = std::nullopt) {
  std::vector<Waitable> all;
  for (auto&& object : objects) all.emplace_back(object);
  return IWait(std::move(all), timeout, count);
}

// gevent.wait: the ready objects, in the order they became ready, once
// `count` (default: all) are ready or `timeout` passes. Parks; never throws
// on timeout.
std::vector<Waitable> wait(std::span<const Waitable> objects, OptionalSeconds timeout = std::nullopt,
                           std::optional<std::size_t> count = std::nullopt);
inline std::vector<Waitable> wait(std::initializer_list<Waitable> objects, OptionalSeconds timeout = std::nullopt,
                                  std::optional<std::size_t> count = std::nullopt) {
  return wait(std::span<const Waitable>(objects.begin(), objects.size()), timeout, count);
}
template <std::ranges::input_range R>
  requires(std::is_convertible_v<std::ranges::range_reference_t<R>, Waitable> &&
           !std::is_convertible_v<R, std::span<const Waitable>>)
std::vector<Waitable> wait(R&& objects, OptionalSeconds timeout = std::nullopt,
                           std::optional<std::size_t> count = std::nullopt) {
  std::vector<Waitable> all;
  for (auto&& object : objects) all.emplace_back(object);
  return wait(std::span<const Waitable>(all), timeout, count);
}

// gevent.wait() with no objects: Hub::join() (see the top of this file).
inline void wait() { Hub::current().join(); }

}  // namespace weft::green
