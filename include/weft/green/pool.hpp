// weft/green/pool.hpp — weft::green::Group and weft::green::Pool,
// gevent.pool: sets of running greenlets, and sets with a size limit.
//
// A Group tracks greenlets from add() (or spawn()) until they finish; then
// they leave it by themselves. join() parks until the group is empty,
// kill() kills every member, and map()/imap()/imap_unordered() run a
// function over a range in one greenlet per item:
//
//   Group group;
//   auto g = group.spawn(f, 1, 2);              // a started Greenlet<R>
//   std::vector<int> squares = group.map(square, std::views::iota(0, 10));
//   for (int s : group.imap(square, items)) ... // results in input order,
//                                               // each as soon as it is ready
//   int r = group.apply(f, 1, 2);               // f(1, 2) in a member; parks
//   auto h = group.apply_async(f, std::tuple{1, 2}, on_value);
//
// A Pool(size) is a Group that never has more than `size` members running:
// spawn() and add() park the calling greenlet while it is full, and the
// greenlets map() and imap() spawn wait their turn the same way — at most
// `size` of them run at once. free_count(), full() and wait_available()
// say when there is room; try_add() takes a greenlet only if room comes.
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. A wait that nothing can end raises LoopExit.
//
// Lifetime: destroying a Group (or Pool) stops tracking its members; they
// keep running. Destroying one while a greenlet waits on it (in join(),
// kill(), wait_available(), spawn() or apply() on a full Pool, or the
// greenlet apply_async() starts when the pool is full) is undefined
// behaviour, and an IMap (what imap() returns) must not outlive its group.
//
// Thread-safety: a Group belongs to the hub of one thread; use it only from
// greenlets of that thread. Not copyable or movable.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "weft/green/detail/wait_list.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/lock.hpp"
#include "weft/queue/errors.hpp"

namespace weft::green {

// A Pool stayed full: add() without blocking, or past its timeout. A
// weft::Full, as gevent's PoolFull is a queue.Full.
class PoolFull : public Full {
 public:
  const char* what() const noexcept override { return "pool is full"; }
};

template <class R>
class IMap;

namespace detail {

// What spawn(f, args...) returns a Greenlet of: f's result, decayed (the
// greenlet calls its own copies of f and args as rvalues).
template <class F, class... Args>
using spawn_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>&&, std::decay_t<Args>&&...>>;

// What map() and imap() collect: f called on an item (both lvalues).
template <class F, class Item>
using map_result_t = std::decay_t<std::invoke_result_t<std::decay_t<F>&, Item&>>;

// apply_async()'s callback: called with a finished greenlet's value (with
// nothing for a void one).
template <class Callback, class R>
concept value_callback = (std::is_void_v<R> && std::invocable<Callback&>) || std::invocable<Callback&, const R&>;

// f(args...) as a spawned greenlet calls it: on decayed copies, as rvalues.
template <class F, class... Args>
spawn_result_t<F, Args...> call_as_spawned(F&& f, Args&&... args) {
  return std::invoke(std::decay_t<F>(std::forward<F>(f)), std::decay_t<Args>(std::forward<Args>(args))...);
}

// Calls callback(its value) once `g` has returned one; nothing if it
// failed or was killed. Never blocks (the callback runs in the hub).
template <class R, class Callback>
void link_returned_value(Greenlet<R>& g, Callback callback) {
  g.link_value([callback = std::move(callback)](AnyGreenlet done) mutable {
    TaskBase& task = *done.get();
    if constexpr (std::is_void_v<R>) {
      try {
        task.rethrow_outcome();  // only a GreenletExit can come: link_value
      } catch (const GreenletExit&) {
        return;
      }
      std::invoke(callback);
    } else {
      const std::optional<R>& value = static_cast<const TaskResult<R>&>(task).result;
      if (value) std::invoke(callback, std::as_const(*value));
    }
  });
}

// A Group's members, shared with the link callbacks that remove finished
// greenlets, so that a callback arriving after the Group is gone is
// harmless.
struct GroupMembers {
  struct Member {
    AnyGreenlet greenlet;
    bool dying = false;  // kill() already sent it its exception
  };

  explicit GroupMembers(std::optional<std::size_t> capacity);
  // Removes the greenlet keyed `key` (if it is a member), freeing its slot.
  void remove(const void* key) noexcept;

  std::unordered_map<const void*, Member> members;
  Event empty;  // set while there are no members
  std::optional<Semaphore> slots;  // a Pool's room
  std::optional<std::size_t> capacity;
};

}  // namespace detail

class Group {
 public:
  Group() : Group(std::nullopt) {}
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  ~Group();

  // Begins tracking `g` until it finishes or is discarded. Typically `g`
  // is not started yet (start() adds and starts it). On a Pool, parks
  // while the pool is full (see Pool::add). Adding a member again does
  // nothing.
  void add(AnyGreenlet g) { admit(std::move(g), true, std::nullopt); }
  // Stops tracking `g` (nothing if it is not a member, or an empty
  // handle). Never blocks.
  void discard(const AnyGreenlet& g) noexcept;
  // add(g), then g.start().
  void start(AnyGreenlet g);

  // A new greenlet running f(args...), tracked by this group: gevent's
  // group.spawn. On a Pool, parks while the pool is full. Returns the
  // started Greenlet<R>, R being f's result type, decayed.
  template <class F, class... Args>
  Greenlet<detail::spawn_result_t<F, Args...>> spawn(F&& f, Args&&... args) {
    Greenlet<detail::spawn_result_t<F, Args...>> g(std::forward<F>(f), std::forward<Args>(args)...);
    start(g);
    return g;
  }

  // Whether `g` is a member (an empty handle never is).
  bool contains(const AnyGreenlet& g) const noexcept;
  // How many greenlets it tracks (Python's len(group)).
  std::size_t size() const noexcept { return members_->members.size(); }
  bool empty() const noexcept { return members_->members.empty(); }
  // The members now, in no particular order.
  std::vector<AnyGreenlet> greenlets() const;

  // Parks until the group is empty (at least once; it may have members
  // again by the time the caller runs), at most `timeout`; returns whether
  // it became empty. raise_error: then rethrows the exception of one of the
  // greenlets that were members when join() was called and failed.
  bool join(std::optional<std::chrono::duration<double>> timeout = std::nullopt, bool raise_error = false);

  // Raises `exception` (GreenletExit if null) in every member. block: then
  // parks until the group is empty (at most `timeout`), killing members
  // added meanwhile too.
  void kill(std::exception_ptr exception = nullptr, bool block = true,
            std::optional<std::chrono::duration<double>> timeout = std::nullopt);
  // Kills `g` if it is a member not yet being killed; block: then
  // g.join(timeout).
  void killone(const AnyGreenlet& g, std::exception_ptr exception = nullptr, bool block = true,
               std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  // Whether spawn() would park now (never, for a Group).
  bool full() const noexcept;
  // Parks until spawn() would not park, at most `timeout` (returns at once
  // for a Group). Returns how many more greenlets could be spawned without
  // parking (gevent's Pool.wait_available), for a Group the maximum.
  std::size_t wait_available(std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  // [f(item) for item in range], one greenlet of this group per item (on a
  // Pool, at most its size at once), in input order. Parks until all are
  // done; rethrows the exception of the first failed item in input order
  // (the other greenlets run on). Called from a member of this group, it
  // calls f in the calling greenlet instead, which cannot deadlock a full
  // pool. The greenlets share one copy of f; each gets a copy of its item.
  template <class F, std::ranges::input_range Range>
  auto map(F&& f, Range&& range) {
    using Item = std::ranges::range_value_t<Range>;
    using R = detail::map_result_t<F, Item>;
    static_assert(!std::is_void_v<R>, "map() collects results: f must return a value");
    std::vector<R> results;
    if (contains_current()) {
      for (auto&& item : range) results.push_back(std::invoke(f, item));
      return results;
    }
    auto shared = std::make_shared<std::decay_t<F>>(std::forward<F>(f));
    std::vector<Greenlet<R>> tasks;
    for (auto&& item : range) {
      tasks.push_back(spawn([shared](auto&& argument) -> R { return std::invoke(*shared, argument); },
                            Item(std::forward<decltype(item)>(item))));
    }
    results.reserve(tasks.size());
    for (Greenlet<R>& task : tasks) results.push_back(task.get());
    return results;
  }

  // An input range of f(item) for each item of `range`, in input order,
  // each available as soon as its greenlet has finished: the items are
  // fed to spawn() by a greenlet of their own (so on a Pool at most its
  // size run at once) while the caller iterates. Dereferencing the
  // iterator at an item whose f threw rethrows that exception (GreenletExit
  // if its greenlet was killed); iteration may go on past it. `range` is
  // kept by reference if it is an lvalue (it must outlive the iteration),
  // else moved in. See IMap.
  //
  // maxsize (gevent's keyword; 0: no bound) applies back-pressure to a
  // fast producer and a slow consumer: the feeding greenlet parks while
  // `maxsize` items it fed have not been taken by the iterator yet, so no
  // more than that many results (finished or still running) ever wait
  // unconsumed.
  template <class F, std::ranges::input_range Range>
  auto imap(F&& f, Range&& range, std::size_t maxsize = 0) {
    return make_imap(true, maxsize, std::forward<F>(f), std::forward<Range>(range));
  }
  // The same, but each result as soon as it is ready, in the order the
  // greenlets finish.
  template <class F, std::ranges::input_range Range>
  auto imap_unordered(F&& f, Range&& range, std::size_t maxsize = 0) {
    return make_imap(false, maxsize, std::forward<F>(f), std::forward<Range>(range));
  }

  // f(args...) in a new greenlet of this group (on a Pool, parking first
  // while it is full), parking until it returns: gevent's apply. Returns
  // its value or rethrows its exception (GreenletExit if it was killed).
  // Called from a member of this group, it calls f in the calling greenlet
  // instead, which cannot deadlock a full pool. Either way f is called on
  // decayed copies of f and args, as rvalues.
  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>&&, std::decay_t<Args>&&...>
  detail::spawn_result_t<F, Args...> apply(F&& f, Args&&... args) {
    if (contains_current()) return detail::call_as_spawned(std::forward<F>(f), std::forward<Args>(args)...);
    return spawn(std::forward<F>(f), std::forward<Args>(args)...).get();
  }

  // f(args...) in a greenlet of this group, without parking: gevent's
  // apply_async. Returns the started Greenlet<R> whose value is f's. When
  // there is room it is the member running f; when a Pool is full it is a
  // greenlet outside the group that parks for room, then runs f in a
  // member and takes on its outcome. Never blocks.
  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>&&, std::decay_t<Args>&&...>
  Greenlet<detail::spawn_result_t<F, Args...>> apply_async(F&& f, Args&&... args) {
    return start_async(std::forward<F>(f), std::forward<Args>(args)...);
  }
  // The same with gevent's `args` tuple and `callback`: callback(value)
  // runs in the hub once f has returned (not if it failed or was killed);
  // it must not block, and what it throws is reported on stderr.
  template <class F, class... Args, class Callback>
    requires std::is_invocable_v<std::decay_t<F>&&, Args&&...> &&
             detail::value_callback<Callback, detail::spawn_result_t<F, Args...>>
  Greenlet<detail::spawn_result_t<F, Args...>> apply_async(F&& f, std::tuple<Args...> args, Callback callback) {
    auto g = std::apply([&](Args&... unpacked) { return start_async(std::forward<F>(f), std::move(unpacked)...); },
                        args);
    detail::link_returned_value(g, std::move(callback));
    return g;
  }

  // apply(f, args...), then callback(value) in a new greenlet (which may
  // block), not waited for: gevent's apply_cb. Returns the value; parks
  // and throws as apply().
  template <class F, class... Args, class Callback>
    requires std::is_invocable_v<std::decay_t<F>&&, Args&&...> &&
             detail::value_callback<std::decay_t<Callback>, detail::spawn_result_t<F, Args...>>
  detail::spawn_result_t<F, Args...> apply_cb(F&& f, std::tuple<Args...> args, Callback&& callback) {
    using R = detail::spawn_result_t<F, Args...>;
    auto call = [&](Args&... unpacked) { return apply(std::forward<F>(f), std::move(unpacked)...); };
    if constexpr (std::is_void_v<R>) {
      std::apply(call, args);
      green::spawn(std::forward<Callback>(callback));
    } else {
      R value = std::apply(call, args);
      green::spawn([](auto&& report, const R& result) { std::invoke(report, result); },
                   std::forward<Callback>(callback), value);
      return value;
    }
  }

 protected:
  explicit Group(std::optional<std::size_t> capacity);

  // Tracks `g`, first taking a slot of a Pool. Returns false (tracking
  // nothing) if no slot came in time.
  bool admit(AnyGreenlet g, bool blocking, std::optional<std::chrono::duration<double>> timeout);

  std::shared_ptr<detail::GroupMembers> members_;

 private:
  bool contains_current() const noexcept;

  template <class F, class Range>
  auto make_imap(bool ordered, std::size_t maxsize, F&& f, Range&& range);

  // apply_async() without the callback.
  template <class F, class... Args>
  Greenlet<detail::spawn_result_t<F, Args...>> start_async(F&& f, Args&&... args) {
    Greenlet<detail::spawn_result_t<F, Args...>> g(std::forward<F>(f), std::forward<Args>(args)...);
    if (admit(g, false, std::nullopt)) {
      g.start();
      return g;
    }
    return green::spawn([this, g]() mutable {
      start(g);
      return g.get();
    });
  }
};

// A Group of at most `size` running greenlets.
class Pool : public Group {
 public:
  // size 0 makes a pool nothing can ever join: spawn() parks for good.
  explicit Pool(std::size_t size) : Group(size) {}

  // As Group::add, but when the pool is full: blocking, parks until there
  // is room (at most `timeout`); not blocking, does not wait. Throws
  // PoolFull when no room came. Rethrows what is thrown into the greenlet
  // meanwhile (the greenlet is then not added).
  void add(AnyGreenlet g, bool blocking = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    if (!admit(std::move(g), blocking, timeout)) throw PoolFull();
  }
  // add() that returns false where add() would throw PoolFull: does not
  // wait / waits at most `timeout` for room. Returns true if g was already
  // a member.
  bool try_add(AnyGreenlet g) { return admit(std::move(g), false, std::nullopt); }
  bool try_add(AnyGreenlet g, std::chrono::duration<double> timeout) { return admit(std::move(g), true, timeout); }

  // How many more greenlets it can take now (gevent's free_count).
  std::size_t free_count() const noexcept;
  // Its size (gevent's Pool.size).
  std::size_t capacity() const noexcept { return *members_->capacity; }
};

namespace detail {

// The results of one imap()/imap_unordered(), shared by the iterator, the
// greenlet feeding items in, and the greenlets computing them.
template <class R>
class IMapResults {
 public:
  using Outcome = std::variant<R, std::exception_ptr>;

  // maxsize: see Group::imap; 0 for no bound.
  IMapResults(bool ordered, std::size_t maxsize) : ordered_(ordered), maxsize_(maxsize) {}

  // The feeder, before it feeds an item: parks while `maxsize` items fed
  // have not been taken yet, then counts the new one.
  void wait_for_room() {
    while (maxsize_ != 0 && untaken_ >= maxsize_) {
      Waiter waiter(room_);
      waiter.wait("Group.imap maxsize", std::nullopt);
    }
    ++untaken_;
  }

  // A worker's return value, before its greenlet ends.
  void keep_value(std::size_t index, R value) { values_.emplace(index, std::move(value)); }
  // The greenlet computing item `index` ended (failed with `exception`, if
  // not null; killed, if it left no value either).
  void finish(std::size_t index, std::exception_ptr exception) {
    auto kept = values_.find(index);
    if (kept != values_.end()) {
      deliver(index, Outcome(std::in_place_index<0>, std::move(kept->second)));
      values_.erase(kept);
    } else {
      deliver(index, Outcome(std::in_place_index<1>, exception ? exception : std::make_exception_ptr(GreenletExit())));
    }
  }
  // The input itself failed after `index` items.
  void fail_input(std::size_t index, std::exception_ptr exception) {
    ++untaken_;
    deliver(index, Outcome(std::in_place_index<1>, std::move(exception)));
  }
  // No more than `count` outcomes will come.
  void close(std::size_t count) noexcept {
    end_ = count;
    waiters_.notify_all();
  }

  // Parks until the next outcome is ready; none once all were taken.
  std::optional<Outcome> take() {
    for (;;) {
      auto ready = ready_.find(next_);
      if (ready != ready_.end()) {
        std::optional<Outcome> outcome(std::move(ready->second));
        ready_.erase(ready);
        ++next_;
        --untaken_;
        room_.notify_one();
        return outcome;
      }
      if (end_ && next_ >= *end_) return std::nullopt;
      Waiter waiter(waiters_);
      waiter.wait("Group.imap", std::nullopt);
    }
  }

 private:
  // Ordered results are keyed by input position, unordered ones by the
  // order they finish in; either way the iterator takes keys 0, 1, 2...
  void deliver(std::size_t index, Outcome outcome) {
    ready_.emplace(ordered_ ? index : finished_++, std::move(outcome));
    waiters_.notify_all();
  }

  std::map<std::size_t, Outcome> ready_;
  std::unordered_map<std::size_t, R> values_;
  WaitList waiters_;
  WaitList room_;  // the feeder, parked by maxsize
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
  std::size_t untaken_ = 0;  // fed (or failed input) and not yet taken
  std::optional<std::size_t> end_;
  const bool ordered_;
  const std::size_t maxsize_;
};

}  // namespace detail

// The input range imap()/imap_unordered() return: one pass, results of
// type R. Dereferencing the iterator never parks (the wait happens in
// begin() and ++); it rethrows the exception of a failed item. Destroying
// an IMap before its end kills the greenlet feeding items in; greenlets
// already spawned finish in the group. Movable, not copyable.
template <class R>
class IMap {
 public:
  class iterator {
   public:
    using value_type = R;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    R& operator*() const { return map_->current(); }
    iterator& operator++() {
      map_->advance();
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept { return it.at_end(); }

   private:
    friend class IMap;
    explicit iterator(IMap* map) noexcept : map_(map) {}
    bool at_end() const noexcept { return !map_->current_; }
    IMap* map_ = nullptr;
  };

  IMap(std::shared_ptr<detail::IMapResults<R>> results, AnyGreenlet feeder)
      : results_(std::move(results)), feeder_(std::move(feeder)) {}
  IMap(IMap&& other) noexcept
      : results_(std::move(other.results_)), feeder_(std::exchange(other.feeder_, AnyGreenlet())),
        current_(std::move(other.current_)), started_(other.started_) {}
  IMap& operator=(IMap&&) = delete;
  ~IMap() {
    if (!feeder_.empty() && !feeder_.ready()) feeder_.kill(nullptr, false);
  }

  // Parks until the first result is ready (or the input turns out empty).
  // Call once.
  iterator begin() {
    if (!started_) {
      started_ = true;
      advance();
    }
    return iterator(this);
  }
  std::default_sentinel_t end() const noexcept { return {}; }

 private:
  R& current() const {
    if (auto* failure = std::get_if<std::exception_ptr>(&*current_)) std::rethrow_exception(*failure);
    return std::get<R>(*current_);
  }
  void advance() { current_ = results_->take(); }

  std::shared_ptr<detail::IMapResults<R>> results_;
  AnyGreenlet feeder_;
  mutable std::optional<typename detail::IMapResults<R>::Outcome> current_;
  bool started_ = false;
};

template <class F, class Range>
auto Group::make_imap(bool ordered, std::size_t maxsize, F&& f, Range&& range) {
  using View = std::views::all_t<Range>;
  using Item = std::ranges::range_value_t<View>;
  using R = detail::map_result_t<F, Item>;
  static_assert(!std::is_void_v<R>, "imap() yields results: f must return a value");

  // What the feeder and the workers share: the function and the input.
  struct Feed {
    std::decay_t<F> f;
    View view;
  };
  auto feed = std::make_shared<Feed>(Feed{std::forward<F>(f), std::views::all(std::forward<Range>(range))});
  auto results = std::make_shared<detail::IMapResults<R>>(ordered, maxsize);

  auto feeder = green::spawn([this, feed, results] {
    std::size_t count = 0;
    try {
      for (auto&& item : feed->view) {
        results->wait_for_room();
        auto worker = spawn(
            [feed, results, index = count](auto&& argument) {
              results->keep_value(index, std::invoke(feed->f, argument));
            },
            Item(std::forward<decltype(item)>(item)));
        worker.link([results, index = count](AnyGreenlet done) { results->finish(index, done.exception()); });
        ++count;
      }
    } catch (const GreenletExit&) {
      results->close(count);
      throw;
    } catch (...) {
      results->fail_input(count, std::current_exception());
      ++count;
    }
    results->close(count);
  });
  return IMap<R>(std::move(results), std::move(feeder));
}

}  // namespace weft::green
