// weft/futures/future.hpp — weft::futures::Future<T>, Python's
// concurrent.futures.Future, plus then() continuations.
//
// A Future is a shared handle to the eventual outcome of a computation:
// pending, then running, then finished with a value or an exception — or
// cancelled while still pending. Copies refer to the same outcome. Executors
// hand them out from submit(); executor authors create them with the default
// constructor and complete them with set_running_or_notify_cancel(),
// set_result() and set_exception().
//
// Blocking: result(), exception() and wait() block until the future is done
// (or the timeout passes: result/exception throw TimeoutError, wait returns
// false — the non-throwing form). Everything else never blocks.
//
// Errors: result() re-throws the task's exception with its type, and throws
// CancelledError for a cancelled future; set_result/set_exception on a done
// future throw InvalidStateError.
//
// Callbacks (add_done_callback, then) run on the thread that completes the
// future, or at once on the calling thread if it is already done. They
// may be move-only. A callback
// that throws is reported (see set_callback_exception_handler), never lost
// and never propagated into the completing thread.
//
// Thread-safety: every member may be called from any thread, on any copy.
#pragma once

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/futures/detail/future_state.hpp"
#include "weft/futures/errors.hpp"

namespace weft::futures {

template <class T>
class Future;

namespace detail {

template <class T>
struct ResultRef {
  using type = const T&;
};
template <>
struct ResultRef<void> {
  using type = void;
};

template <class T>
struct IsFuture : std::false_type {};
template <class T>
struct IsFuture<Future<T>> : std::true_type {};

// What then(f) on a Future<T> produces.
template <class T, class F>
struct ContinuationOf {
  using type = std::invoke_result_t<F, const T&>;
};
template <class F>
struct ContinuationOf<void, F> {
  using type = std::invoke_result_t<F>;
};

}  // namespace detail

// Replaces the handler of exceptions thrown by done-callbacks (by default,
// print "exception calling callback for future" and the exception to
// standard error). Returns the previous one; empty restores the default.
using CallbackExceptionHandler = std::function<void(std::exception_ptr)>;
CallbackExceptionHandler set_callback_exception_handler(CallbackExceptionHandler handler);

template <class T>
class Future {
 public:
  using value_type = T;
  using result_type = typename detail::ResultRef<T>::type;

  // A new pending future, for executor authors.
  Future() : state_(std::make_shared<detail::State<T>>()) {}
  explicit Future(std::shared_ptr<detail::State<T>> state) noexcept : state_(std::move(state)) {}

  // Cancels the future if it is still pending; returns true if it is (now)
  // cancelled, false if it is running or finished.
  bool cancel() { return state_->cancel(); }
  bool cancelled() const noexcept { return state_->status() == detail::Status::cancelled; }
  bool running() const noexcept { return state_->status() == detail::Status::running; }
  bool done() const noexcept { return state_->done(); }

  // Blocks until done; then returns the value (a reference valid while any
  // copy of this future lives), or throws the task's exception or
  // CancelledError.
  result_type result() const {
    state_->wait_done(std::nullopt);
    return outcome();
  }
  // The same, throwing TimeoutError if not done within `timeout`.
  template <class Rep, class Period>
  result_type result(std::chrono::duration<Rep, Period> timeout) const {
    if (!wait(timeout)) throw TimeoutError("future not done in time");
    return outcome();
  }

  // Blocks until done; returns the task's exception, or null if it
  // succeeded. Throws CancelledError if cancelled.
  std::exception_ptr exception() const {
    state_->wait_done(std::nullopt);
    return state_->error_when_done();
  }
  template <class Rep, class Period>
  std::exception_ptr exception(std::chrono::duration<Rep, Period> timeout) const {
    if (!wait(timeout)) throw TimeoutError("future not done in time");
    return state_->error_when_done();
  }

  // Blocks until done. The timed form returns false on timeout instead of
  // throwing.
  void wait() const { state_->wait_done(std::nullopt); }
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    return state_->wait_done(weft::detail::deadline_after_clamped(timeout));
  }

  // Calls fn(future) when the future is done (at once if it already is).
  template <class F>
    requires std::is_invocable_v<F&, Future<T>>
  void add_done_callback(F fn) {
    state_->add_done_callback([weak = std::weak_ptr(state_), fn = std::move(fn)] {
      if (auto state = weak.lock()) fn(Future<T>(std::move(state)));
    });
  }

  // A future of f(value) — f() for a Future<void> — computed on the thread
  // that completes this one, without blocking anybody. An exception, from
  // this future or from f, carries over; a cancellation cancels the result.
  template <class F>
  auto then(F&& f) -> Future<typename detail::ContinuationOf<T, std::decay_t<F>>::type> {
    using R = typename detail::ContinuationOf<T, std::decay_t<F>>::type;
    Future<R> next;
    state_->add_done_callback([weak = std::weak_ptr(state_), next, fn = std::forward<F>(f)]() mutable {
      auto state = weak.lock();
      if (!state) return;
      if (state->status() == detail::Status::cancelled) {
        next.cancel();
        return;
      }
      try {
        if (auto error = state->error_when_done()) std::rethrow_exception(error);
        if constexpr (std::is_void_v<R>) {
          if constexpr (std::is_void_v<T>) fn(); else fn(std::as_const(state->value()));
          next.set_result();
        } else if constexpr (std::is_void_v<T>) {
          next.set_result(fn());
        } else {
          next.set_result(fn(std::as_const(state->value())));
        }
      } catch (...) {
        if (!next.done()) next.set_exception(std::current_exception());
      }
    });
    return next;
  }

  // ---- for executor authors ----

  // Python's set_running_or_notify_cancel(): returns false if the future was
  // cancelled (do not run the task), true after marking it running. Throws
  // RuntimeError if it is already running or done.
  bool set_running_or_notify_cancel() { return state_->set_running_or_notify_cancel(); }

  template <class... Args>
  void set_result(Args&&... args) {
    state_->set_result(std::forward<Args>(args)...);
  }
  void set_exception(std::exception_ptr error) { state_->set_exception(std::move(error)); }

  friend bool operator==(const Future& a, const Future& b) noexcept { return a.state_ == b.state_; }

  // The shared state's identity (for hashing and de-duplication).
  const void* id() const noexcept { return state_.get(); }
  detail::StateBase& state() const noexcept { return *state_; }

 private:
  result_type outcome() const {
    if (auto error = state_->error_when_done()) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::as_const(state_->value());
  }

  std::shared_ptr<detail::State<T>> state_;
};

}  // namespace weft::futures
