// weft/green/async_result.hpp — weft::green::AsyncResult<T>,
// gevent.event.AsyncResult: a one-shot value (or exception) that greenlets
// wait for.
//
//   set(value) / set_exception(e)   store the outcome and wake every waiter
//                                   (a later call replaces it, as in gevent)
//   get()                           parks until ready, then returns a copy
//                                   of the value or rethrows the exception
//   get(false)                      does not wait: throws green::Timeout if
//                                   not ready
//   get(true, 2s)                   waits at most 2 s, then throws
//                                   green::Timeout
//   try_get()                       does not wait: std::nullopt if not
//                                   ready, else as get()
//   try_get(2s)                     waits at most 2 s: std::nullopt if
//                                   still not ready, else as get()
//                                   (both rethrow the stored exception: a
//                                   failure is an outcome, not a timeout;
//                                   AsyncResult<void>'s return a bool)
//   wait([timeout])                 parks until ready; returns ready() (it
//                                   never throws the stored exception)
//   ready(), successful(), value(), exception()   never block
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. A wait that nothing can end raises LoopExit
// (naming "AsyncResult.get"), unless the result is set from another thread:
//
// From another thread, call set_threadsafe()/set_exception_threadsafe().
// Make such a result with SetFrom::any_thread: it belongs to the hub of the
// thread that made it, and while it is not ready its waits keep that hub
// alive (LoopExit is not raised: a set from outside is expected). Those
// calls deliver the outcome through the hub's loop (set() then runs on the
// owning thread); the result may be destroyed before a delivery arrives
// (the delivery is then dropped), but the owning thread must still be
// running. On a result made with SetFrom::this_thread (the default) they
// throw weft::RuntimeError.
//
// Thread-safety: apart from the *_threadsafe calls, an AsyncResult is used
// only by greenlets of the thread that made it. Not copyable or movable;
// destroying one that greenlets wait on is undefined behaviour.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/detail/unique_function.hpp"
#include "weft/errors.hpp"
#include "weft/green/detail/wait_list.hpp"

namespace weft::green {

// Who may set an AsyncResult: greenlets of its own thread only, or also
// other threads (through the *_threadsafe calls).
enum class SetFrom { this_thread, any_thread };

namespace detail {

// The untyped part of AsyncResult<T>: readiness, the exception, waiting.
class AsyncResultBase {
 public:
  AsyncResultBase(const AsyncResultBase&) = delete;
  AsyncResultBase& operator=(const AsyncResultBase&) = delete;

  bool ready() const noexcept { return ready_; }
  bool successful() const noexcept { return ready_ && !exception_; }
  // The exception it was set with; null if not ready or successful.
  std::exception_ptr exception() const noexcept { return exception_; }

  // Parks until ready, or at most `timeout` (zero or less: not at all);
  // returns ready(). Rethrows what is thrown into the greenlet meanwhile.
  bool wait(std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  // Stores `exception` as the outcome and wakes every waiter. Throws
  // ValueError if it is null. Never blocks.
  void set_exception(std::exception_ptr exception);
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr>)
  void set_exception(E&& exception) {
    set_exception(std::make_exception_ptr(std::forward<E>(exception)));
  }
  // From any thread (see above). Throws weft::RuntimeError for a result
  // made with SetFrom::this_thread.
  void set_exception_threadsafe(std::exception_ptr exception);

  // Made with SetFrom::any_thread.
  bool settable_from_any_thread() const noexcept { return hub_ != nullptr; }

  // gevent's rawlink, for weft's own layers (green::wait, green::iwait):
  // the next set() or set_exception() unlinks `link` and calls
  // notified(context). Never blocks.
  void rawlink(Link& link, void (*notified)(void* context) noexcept, void* context) noexcept {
    link.link(waiters_, notified, context);
  }

 protected:
  explicit AsyncResultBase(SetFrom setter);
  ~AsyncResultBase();

  // Marks it ready with `exception` (null: with the value just stored) and
  // wakes every waiter.
  void become_ready(std::exception_ptr exception) noexcept;
  // get()'s wait: returns once ready; throws green::Timeout if it is not
  // ready and !block, or when `timeout` passes first.
  void wait_for_get(bool block, const std::optional<std::chrono::duration<double>>& timeout);
  // try_get(timeout)'s wait: parks as get() does; returns ready().
  bool wait_for_try_get(std::chrono::duration<double> timeout);
  void rethrow_if_failed() const {
    if (exception_) std::rethrow_exception(exception_);
  }
  [[noreturn]] static void throw_no_value();

  // Runs `apply(*this)` on the owning thread, unless this result is gone
  // by then.
  template <class Apply>
  void post(Apply apply) {
    if (!anchor_) throw_not_threadsafe();
    post_callback(weft::detail::UniqueFunction<void()>(
        [anchor = anchor_, apply = std::move(apply)]() mutable {
          if (*anchor != nullptr) apply(**anchor);
        }));
  }

 private:
  [[noreturn]] static void throw_not_threadsafe();
  bool wait_until(const char* what, const Deadline& deadline);
  void post_callback(weft::detail::UniqueFunction<void()> callback);

  WaitList waiters_;
  std::exception_ptr exception_;
  bool ready_ = false;
  // SetFrom::any_thread only: the owning hub, and the cell through which
  // deliveries find this result (nulled by the destructor).
  Hub* hub_ = nullptr;
  std::shared_ptr<AsyncResultBase*> anchor_;
};

}  // namespace detail

template <class T = void>
class AsyncResult : public detail::AsyncResultBase {
 public:
  explicit AsyncResult(SetFrom setter = SetFrom::this_thread) : AsyncResultBase(setter) {}

  // Stores `value` as the outcome and wakes every waiter. Never blocks.
  void set(T value) {
    value_.emplace(std::move(value));
    become_ready(nullptr);
  }
  // From any thread (see above). Throws weft::RuntimeError for a result
  // made with SetFrom::this_thread.
  void set_threadsafe(T value) {
    post([value = std::move(value)](AsyncResultBase& self) mutable {
      static_cast<AsyncResult&>(self).set(std::move(value));
    });
  }

  // Parks until ready (see the top of this file); returns a copy of the
  // value or rethrows the stored exception. Throws green::Timeout when not
  // ready and !block, or when `timeout` passes first.
  T get(bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    wait_for_get(block, timeout);
    rethrow_if_failed();
    return *value_;
  }

  // get() that returns std::nullopt where get() would throw green::Timeout:
  // does not wait / waits at most `timeout`. Still rethrows the stored
  // exception.
  std::optional<T> try_get() {
    if (!ready()) return std::nullopt;
    rethrow_if_failed();
    return *value_;
  }
  std::optional<T> try_get(std::chrono::duration<double> timeout) {
    if (!wait_for_try_get(timeout)) return std::nullopt;
    rethrow_if_failed();
    return *value_;
  }

  // The value; throws weft::ValueError if not ready or not successful.
  const T& value() const {
    if (!successful()) throw_no_value();
    return *value_;
  }

 private:
  std::optional<T> value_;
};

template <>
class AsyncResult<void> : public detail::AsyncResultBase {
 public:
  explicit AsyncResult(SetFrom setter = SetFrom::this_thread) : AsyncResultBase(setter) {}

  void set() noexcept { become_ready(nullptr); }
  void set_threadsafe() {
    post([](AsyncResultBase& self) { static_cast<AsyncResult&>(self).set(); });
  }
  void get(bool block = true, std::optional<std::chrono::duration<double>> timeout = std::nullopt) {
    wait_for_get(block, timeout);
    rethrow_if_failed();
  }
  // false where get() would throw green::Timeout; rethrows the stored
  // exception.
  bool try_get() {
    if (!ready()) return false;
    rethrow_if_failed();
    return true;
  }
  bool try_get(std::chrono::duration<double> timeout) {
    if (!wait_for_try_get(timeout)) return false;
    rethrow_if_failed();
    return true;
  }
};

}  // namespace weft::green
