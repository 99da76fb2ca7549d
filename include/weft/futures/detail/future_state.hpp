// weft/futures/detail/future_state.hpp — the shared state behind a
// weft::futures::Future: Python's Future state machine (pending, running,
// cancelled, finished) under a futex mutex, with blocking waiters,
// done-callbacks and completion observers (for wait() and as_completed()).
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/unique_function.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/futures/errors.hpp"

namespace weft::futures::detail {

using weft::detail::Deadline;

// `completing` is the short moment between claiming the right to set the
// outcome and publishing it.
enum class Status : std::uint8_t { pending, running, completing, cancelled, finished };

// Told, under the future's lock, that a future completed; must be quick and
// must not touch the future. Used by wait() and as_completed().
class Observer {
 public:
  virtual void completed(std::size_t index) noexcept = 0;

 protected:
  ~Observer() = default;
};

// Reports an exception thrown by a done-callback (the default prints it to
// standard error); see futures::set_callback_exception_handler.
void report_callback_exception(std::exception_ptr error) noexcept;

class StateBase {
 public:
  StateBase() = default;
  StateBase(const StateBase&) = delete;
  StateBase& operator=(const StateBase&) = delete;
  virtual ~StateBase() = default;

  Status status() const noexcept { return status_.load(std::memory_order_seq_cst); }
  bool done() const noexcept {
    const Status s = status();
    return s == Status::cancelled || s == Status::finished;
  }

  bool cancel() {
    Status s = Status::pending;
    if (!status_.compare_exchange_strong(s, Status::cancelled, std::memory_order_seq_cst))
      return s == Status::cancelled;
    publish();
    return true;
  }

  // Python's set_running_or_notify_cancel(): false if cancelled; throws
  // RuntimeError if already running or done.
  bool set_running_or_notify_cancel() {
    Status s = Status::pending;
    if (status_.compare_exchange_strong(s, Status::running, std::memory_order_acq_rel)) return true;
    if (s == Status::cancelled) return false;
    throw RuntimeError("Future in unexpected state");
  }

  // Blocks until done or the deadline; returns done().
  bool wait_done(const Deadline& deadline) {
    if (done()) return true;
    std::unique_lock held(mutex_);
    take_interest();
    while (!done()) {
      if (!waiters_.wait(deadline, [this] { mutex_.unlock(); }, [this] { mutex_.lock(); }) && !done())
        return false;
    }
    return true;
  }

  // The stored exception once done (null if the task succeeded); throws
  // CancelledError if cancelled. Call only when done().
  std::exception_ptr error_when_done() const {
    if (status() == Status::cancelled) throw CancelledError();
    return error_;
  }

  void set_exception(std::exception_ptr error) {
    claim();
    error_ = std::move(error);
    finish();
  }

  // Runs `callback` when done — at once, on this thread, if already done.
  void add_done_callback(weft::detail::UniqueFunction<void()> callback) {
    {
      std::unique_lock held(mutex_);
      take_interest();
      if (!done()) {
        callbacks_.push_back(std::move(callback));
        return;
      }
    }
    invoke(callback);
  }

  // Registers an observer to be told `index` on completion; returns true
  // (and registers nothing) if already done.
  bool observe(Observer* observer, std::size_t index) {
    std::unique_lock held(mutex_);
    take_interest();
    if (done()) return true;
    observers_.emplace_back(observer, index);
    return false;
  }
  void unobserve(Observer* observer) {
    std::unique_lock held(mutex_);
    std::erase_if(observers_, [&](const auto& entry) { return entry.first == observer; });
  }

 protected:
  void finish() noexcept {
    status_.store(Status::finished, std::memory_order_seq_cst);
    publish();
  }

  // Claims the right to set the outcome; throws InvalidStateError if it is
  // already set (or being set) or the future was cancelled.
  void claim() {
    Status s = status();
    do {
      if (s == Status::cancelled) throw InvalidStateError("future is cancelled");
      if (s == Status::finished || s == Status::completing) throw InvalidStateError("future is already finished");
    } while (!status_.compare_exchange_weak(s, Status::completing, std::memory_order_acquire));
  }

  // Called under the lock before anybody waits, observes or adds a
  // callback. Its seq_cst store and the completer's seq_cst status store
  // are ordered, so either the completer sees the interest or the
  // newcomer sees the future done.
  void take_interest() noexcept { interested_.store(true, std::memory_order_seq_cst); }

  // After the final status is stored: wakes waiters, tells observers, and
  // runs the callbacks outside the lock — or, when nobody ever showed
  // interest (the common fire-and-forget task), does nothing at all.
  void publish() noexcept {
    if (!interested_.load(std::memory_order_seq_cst)) return;
    std::vector<weft::detail::UniqueFunction<void()>> callbacks;
    {
      std::unique_lock held(mutex_);
      waiters_.notify_all();
      for (const auto& [observer, index] : observers_) observer->completed(index);
      observers_.clear();
      callbacks.swap(callbacks_);
    }
    for (auto& callback : callbacks) invoke(callback);
  }

  static void invoke(weft::detail::UniqueFunction<void()>& callback) noexcept {
    try {
      callback();
    } catch (...) {
      report_callback_exception(std::current_exception());
    }
  }

  std::exception_ptr error_;

 private:
  mutable weft::detail::FutexMutex mutex_;
  std::atomic<Status> status_{Status::pending};
  std::atomic<bool> interested_{false};
  weft::detail::WaitQueue waiters_;
  std::vector<weft::detail::UniqueFunction<void()>> callbacks_;
  std::vector<std::pair<Observer*, std::size_t>> observers_;
};

template <class T>
class State : public StateBase {
 public:
  template <class... Args>
  void set_result(Args&&... args) {
    claim();
    try {
      value_.emplace(std::forward<Args>(args)...);
    } catch (...) {
      error_ = std::current_exception();
    }
    this->finish();
  }
  // Call only when finished without an exception.
  T& value() noexcept { return *value_; }

 private:
  std::optional<T> value_;
};

template <>
class State<void> : public StateBase {
 public:
  void set_result() {
    claim();
    this->finish();
  }
};

}  // namespace weft::futures::detail
