// weft/green/greenlet_task.hpp — gevent's Greenlet: a function running in a
// greenlet of its own, scheduled on this thread's hub, whose outcome can be
// waited for, fetched and linked to. spawn(), spawn_later(), joinall() and
// killall() as in gevent.
//
//   auto g = green::spawn(fetch, url);   // starts when the caller next blocks
//   std::string page = g.get();          // waits; rethrows fetch's exception
//
// A Greenlet is a handle: copies share one state, which lives while a handle
// refers to it, the function runs or a join or kill waits for it (a spawned
// greenlet that nobody keeps is never cut short). Its greenlet's parent is the hub, so a greenlet that
// blocks lets every other one run. An exception escaping the function is
// kept (exception(), get() rethrows it) and reported on stderr as
// "<name> failed with <type>: <what>", as gevent prints it; it never reaches
// the hub or another greenlet. GreenletExit — what kill() raises by default —
// ends a greenlet successfully.
//
// Blocking calls (join, get, kill with block, joinall, killall) park the
// calling greenlet; from the main greenlet they run the hub until they
// return. A wait that nothing can ever end raises LoopExit naming what every
// parked greenlet waits on.
//
// Thread-safety: a Greenlet belongs to the thread that made it (its hub);
// use it only from that thread. Handles may be copied and destroyed on any
// thread.
#pragma once

#include <any>
#include <chrono>
#include <exception>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/unique_function.hpp"
#include "weft/errors.hpp"
#include "weft/green/greenlet.hpp"
#include "weft/io/timer.hpp"

namespace weft::green {

class AnyGreenlet;

// A timeout in gevent's style: none waits forever; zero or less does not wait.
using OptionalSeconds = std::optional<std::chrono::duration<double>>;

namespace detail {

// The state a Greenlet's handles share. The parts that do not depend on the
// function's type live in greenlet_task.cpp.
class TaskBase : public std::enable_shared_from_this<TaskBase> {
 public:
  using Callback = weft::detail::UniqueFunction<void(AnyGreenlet)>;
  enum class LinkKind : unsigned char { any, value, exception };

  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;
  virtual ~TaskBase();

  void start();
  void start_later(std::chrono::duration<double> seconds);
  bool join(OptionalSeconds timeout);
  void kill(std::exception_ptr exception, bool block, OptionalSeconds timeout);
  void link(Callback callback, LinkKind kind);

  bool ready() const noexcept { return phase_ == Phase::finished; }
  bool successful() const noexcept { return ready() && !exception_; }
  bool started() const noexcept { return phase_ != Phase::created; }
  std::exception_ptr exception() const noexcept { return exception_; }
  const greenlet& raw() const noexcept { return greenlet_; }

  // For get() once ready: rethrows the exception it failed with, or the
  // GreenletExit that ended it; returns if it returned a value.
  void rethrow_outcome() const;
  // Throws the Timeout that get() raises when the wait ran out.
  [[noreturn]] static void throw_timeout(OptionalSeconds timeout);
  // The task running in the current greenlet, if it is a spawned one.
  static std::shared_ptr<TaskBase> running();

  // A wait for this task to finish (greenlet_task.cpp).
  struct Joiner;

 protected:
  TaskBase();
  // Calls the function, keeping its result; throws what it throws.
  virtual void invoke() = 0;
  // Drops the function and its arguments without calling it.
  virtual void discard() noexcept = 0;

 private:
  enum class Phase : unsigned char { created, delayed, scheduled, running, finished };
  struct LinkEntry {
    Callback callback;
    LinkKind kind;
  };
  struct StartTimer final : io::Timer {
    explicit StartTimer(TaskBase& task) noexcept : io::Timer(&fire), task(&task) {}
    static void fire(io::Timer& timer) noexcept;
    TaskBase* task;
  };

  std::any run_in_greenlet();
  void finish(std::exception_ptr failure, std::exception_ptr exit) noexcept;
  void run_link(LinkEntry& entry) noexcept;

  greenlet greenlet_;
  std::shared_ptr<TaskBase> self_;  // while scheduled or running
  std::exception_ptr exception_;    // the failure it ended with
  std::exception_ptr exit_;         // the GreenletExit it ended with
  Joiner* joiners_ = nullptr;
  std::vector<LinkEntry> links_;
  StartTimer start_timer_{*this};
  Phase phase_ = Phase::created;
};

template <class T>
class TaskResult : public TaskBase {
 public:
  std::optional<T> result;
};

template <>
class TaskResult<void> : public TaskBase {};

template <class T, class F, class... Args>
class Task final : public TaskResult<T> {
 public:
  template <class G, class... A>
  explicit Task(G&& f, A&&... args) : call_(std::in_place, std::forward<G>(f), std::forward<A>(args)...) {}

 private:
  void invoke() override {
    std::tuple<F, Args...> call = std::move(*call_);
    call_.reset();
    auto apply = [](auto&& f, auto&&... args) -> decltype(auto) {
      return std::invoke(std::forward<decltype(f)>(f), std::forward<decltype(args)>(args)...);
    };
    if constexpr (std::is_void_v<T>) {
      std::apply(apply, std::move(call));
    } else {
      this->result.emplace(std::apply(apply, std::move(call)));
    }
  }
  void discard() noexcept override { call_.reset(); }

  std::optional<std::tuple<F, Args...>> call_;
};

}  // namespace detail

// A Greenlet of any result type: what joinall(), killall() and link
// callbacks take.
class AnyGreenlet {
 public:
  // An empty handle; every call but ready(), successful(), started(),
  // dead() and exception() throws green::error on it.
  AnyGreenlet() = default;

  // Finished: returned, raised, or killed. Never blocks.
  bool ready() const noexcept { return state_ && state_->ready(); }
  // Finished without an exception (killed by GreenletExit counts).
  bool successful() const noexcept { return state_ && state_->successful(); }
  // start() (or spawn) has been called.
  bool started() const noexcept { return state_ && state_->started(); }
  // Will never run again: finished, or killed before it started.
  bool dead() const noexcept { return ready(); }
  // The exception it failed with; null while running or if successful.
  std::exception_ptr exception() const noexcept { return state_ ? state_->exception() : nullptr; }

  // Waits until it is ready, or `timeout` has passed; returns ready().
  // Blocks (parks). Never throws its exception; throws what interrupts the
  // wait (Timeout, GreenletExit, LoopExit).
  bool join(OptionalSeconds timeout = std::nullopt) { return task().join(timeout); }

  // Raises `exception` (GreenletExit if null) in it at its blocking point —
  // at once if it is the calling greenlet. One that has not started never
  // runs: it is ready at once. With `block`, waits as join(timeout) does.
  void kill(std::exception_ptr exception = nullptr, bool block = true, OptionalSeconds timeout = std::nullopt) {
    task().kill(std::move(exception), block, timeout);
  }

  // Calls callback(*this) in the hub once it is ready (soon after, if it
  // already is). link_value: only if successful; link_exception: only if it
  // failed. A callback must not block; what it throws is reported on stderr.
  // Never blocks.
  void link(detail::TaskBase::Callback callback) { task().link(std::move(callback), detail::TaskBase::LinkKind::any); }
  void link_value(detail::TaskBase::Callback callback) {
    task().link(std::move(callback), detail::TaskBase::LinkKind::value);
  }
  void link_exception(detail::TaskBase::Callback callback) {
    task().link(std::move(callback), detail::TaskBase::LinkKind::exception);
  }

  // Schedules a Greenlet made by its constructor: it runs when the calling
  // greenlet next blocks / once `seconds` have passed. Nothing happens if
  // it was already started. Never blocks.
  void start() { task().start(); }
  void start_later(std::chrono::duration<double> seconds) { task().start_later(seconds); }

  // Its greenlet's name ("greenlet-<n>").
  std::string name() const { return task().raw().name(); }
  // The green::greenlet it runs in.
  greenlet raw() const { return task().raw(); }

  bool empty() const noexcept { return state_ == nullptr; }
  friend bool operator==(const AnyGreenlet& a, const AnyGreenlet& b) noexcept { return a.state_ == b.state_; }

  // The shared state (for weft's own layers: Group, Pool).
  detail::TaskBase* get() const noexcept { return state_.get(); }
  explicit AnyGreenlet(std::shared_ptr<detail::TaskBase> state) noexcept : state_(std::move(state)) {}

 protected:
  detail::TaskBase& task() const {
    if (!state_) throw error("an empty Greenlet handle");
    return *state_;
  }

 private:
  std::shared_ptr<detail::TaskBase> state_;
};

// gevent.Greenlet: the handle of a function f(args...) returning T.
template <class T = void>
class Greenlet : public AnyGreenlet {
 public:
  Greenlet() = default;

  // A greenlet that will call f(args...) (decayed copies) once started;
  // not started (gevent.Greenlet(run, *args)). Makes this thread's hub if
  // it has none.
  template <class F, class... Args>
    requires(!std::is_base_of_v<AnyGreenlet, std::decay_t<F>> &&
             std::is_invocable_v<std::decay_t<F>&&, std::decay_t<Args>&&...>)
  explicit Greenlet(F&& f, Args&&... args)
      : AnyGreenlet(std::make_shared<detail::Task<T, std::decay_t<F>, std::decay_t<Args>...>>(
            std::forward<F>(f), std::forward<Args>(args)...)) {}

  // Waits as join(timeout) does, then returns (a copy of) its value, or
  // rethrows its exception (the GreenletExit it was killed with, if so). Throws
  // green::Timeout if it is not ready when the timeout passes, or at once
  // when !block. Blocks (parks) unless !block.
  T get(bool block = true, OptionalSeconds timeout = std::nullopt) {
    detail::TaskBase& state = task();
    if (!state.ready()) {
      if (!block) detail::TaskBase::throw_timeout(std::nullopt);
      if (!state.join(timeout)) detail::TaskBase::throw_timeout(timeout);
    }
    state.rethrow_outcome();
    if constexpr (!std::is_void_v<T>) return *static_cast<detail::TaskResult<T>&>(state).result;
  }

  // get() that gives std::nullopt (for Greenlet<void>: false) where get()
  // would throw green::Timeout: does not wait / parks at most `timeout`.
  // Still rethrows its exception (or the GreenletExit it was killed with):
  // a failure is an outcome, not a timeout.
  auto try_get() { return try_get_after(task().ready()); }
  auto try_get(std::chrono::duration<double> timeout) {
    detail::TaskBase& state = task();
    return try_get_after(state.ready() || state.join(timeout));
  }

  // Its value once it has returned one. Throws weft::ValueError if it has
  // not (not ready, failed, or killed). Never blocks.
  template <class U = T>
    requires(!std::is_void_v<U>)
  const U& value() const {
    auto& state = static_cast<const detail::TaskResult<T>&>(task());
    if (!state.ready() || !state.result) throw ValueError("the greenlet has no value: " + name());
    return *state.result;
  }

 private:
  auto try_get_after(bool ready) {
    if constexpr (std::is_void_v<T>) {
      if (ready) task().rethrow_outcome();
      return ready;
    } else {
      if (!ready) return std::optional<T>();
      task().rethrow_outcome();
      return std::optional<T>(*static_cast<detail::TaskResult<T>&>(task()).result);
    }
  }
};

// gevent.spawn: a Greenlet running f(args...), started now. It runs when the
// calling greenlet next blocks. Never blocks.
template <class F, class... Args>
auto spawn(F&& f, Args&&... args) {
  using R = std::decay_t<std::invoke_result_t<std::decay_t<F>&&, std::decay_t<Args>&&...>>;
  Greenlet<R> g(std::forward<F>(f), std::forward<Args>(args)...);
  g.start();
  return g;
}

// gevent.spawn_later: the same, started once `seconds` have passed.
template <class F, class... Args>
auto spawn_later(std::chrono::duration<double> seconds, F&& f, Args&&... args) {
  using R = std::decay_t<std::invoke_result_t<std::decay_t<F>&&, std::decay_t<Args>&&...>>;
  Greenlet<R> g(std::forward<F>(f), std::forward<Args>(args)...);
  g.start_later(seconds);
  return g;
}

// gevent.joinall: waits until every greenlet is ready or `timeout` passes;
// returns the ready ones, in the given order. With raise_error, rethrows
// the exception of the first one found failed. Blocks (parks): even with a
// timeout of 0 it parks once unless all are ready, so greenlets just
// spawned run first, as in gevent.
std::vector<AnyGreenlet> joinall(std::span<const AnyGreenlet> greenlets, OptionalSeconds timeout = std::nullopt,
                                 bool raise_error = false);
inline std::vector<AnyGreenlet> joinall(std::initializer_list<AnyGreenlet> greenlets,
                                        OptionalSeconds timeout = std::nullopt, bool raise_error = false) {
  return joinall(std::span<const AnyGreenlet>(greenlets.begin(), greenlets.size()), timeout, raise_error);
}
// Any range of Greenlet<T> handles.
template <std::ranges::input_range R>
  requires(std::is_convertible_v<std::ranges::range_reference_t<R>, AnyGreenlet> &&
           !std::is_convertible_v<const R&, std::span<const AnyGreenlet>>)
std::vector<AnyGreenlet> joinall(const R& greenlets, OptionalSeconds timeout = std::nullopt, bool raise_error = false) {
  std::vector<AnyGreenlet> all(std::ranges::begin(greenlets), std::ranges::end(greenlets));
  return joinall(std::span<const AnyGreenlet>(all), timeout, raise_error);
}

// gevent.killall: kills each (see AnyGreenlet::kill); with `block`, waits
// until all are dead or `timeout` passes. Blocks (parks) if `block`.
void killall(std::span<const AnyGreenlet> greenlets, std::exception_ptr exception = nullptr, bool block = true,
             OptionalSeconds timeout = std::nullopt);
inline void killall(std::initializer_list<AnyGreenlet> greenlets, std::exception_ptr exception = nullptr,
                    bool block = true, OptionalSeconds timeout = std::nullopt) {
  killall(std::span<const AnyGreenlet>(greenlets.begin(), greenlets.size()), std::move(exception), block, timeout);
}
template <std::ranges::input_range R>
  requires(std::is_convertible_v<std::ranges::range_reference_t<R>, AnyGreenlet> &&
           !std::is_convertible_v<const R&, std::span<const AnyGreenlet>>)
void killall(const R& greenlets, std::exception_ptr exception = nullptr, bool block = true,
             OptionalSeconds timeout = std::nullopt) {
  std::vector<AnyGreenlet> all(std::ranges::begin(greenlets), std::ranges::end(greenlets));
  killall(std::span<const AnyGreenlet>(all), std::move(exception), block, timeout);
}

// The Greenlet running in the calling greenlet; empty if it is not a
// spawned one (the main greenlet, a raw greenlet). Never blocks.
AnyGreenlet getcurrent_task();

}  // namespace weft::green
