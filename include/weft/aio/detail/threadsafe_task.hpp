// weft/aio/detail/threadsafe_task.hpp — the task run_coroutine_threadsafe()
// schedules, chained to the concurrent future it returned (Python's
// _chain_future):
//
//   the task's outcome completes the future: its value, its exception, or a
//   cancellation (the future is then cancelled);
//   cancelling the future cancels the task, through call_soon_threadsafe on
//   the task's loop, for as long as the task runs.
//
// A coroutine that never runs (its loop was closed or destroyed first, or
// its task was cancelled before it started) cancels the future when its
// frame goes, so no caller waits forever.
#pragma once

#include <exception>
#include <memory>
#include <mutex>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/task_state.hpp"
#include "weft/aio/errors.hpp"
#include "weft/aio/task.hpp"
#include "weft/futures/future.hpp"

namespace weft::aio::detail {

// What the future's done-callback needs to cancel the task: the loop, while
// the task runs. Shared by the task and the callback.
class ThreadsafeLink : public std::enable_shared_from_this<ThreadsafeLink> {
 public:
  // The loop's thread, as the task starts: from now on a cancellation of
  // `future` cancels the running task. Throws CancelledError if the future
  // was cancelled already.
  void attach(const futures::detail::StateBase& future);
  // The loop's thread, as the task ends.
  void detach() noexcept;
  // Any thread: the future was cancelled; cancels the task in its loop if
  // it still runs.
  void cancel_task();

 private:
  void deliver_cancel();

  std::mutex mutex_;
  EventLoop* loop_ = nullptr;  // guarded by mutex_; set while the task runs
  TaskState* task_ = nullptr;  // the loop's thread only
};

// The future side of the chain, owned by the task's frame.
template <class T>
class ChainedFuture {
 public:
  ChainedFuture(futures::Future<T> future, std::shared_ptr<ThreadsafeLink> link) noexcept
      : future_(std::move(future)), link_(std::move(link)) {}
  ChainedFuture(ChainedFuture&& other) noexcept
      : future_(std::move(other.future_)), link_(std::move(other.link_)) {}
  ChainedFuture& operator=(ChainedFuture&&) = delete;
  ~ChainedFuture() {
    if (link_) cancel();
  }

  void attach() { link_->attach(future_.state()); }

  template <class... V>
  void set_result(V&&... value) noexcept {
    if (settle()) future_.set_result(std::forward<V>(value)...);
  }
  void set_exception(std::exception_ptr error) noexcept {
    if (settle()) future_.set_exception(std::move(error));
  }
  void cancel() noexcept {
    std::exchange(link_, nullptr)->detach();
    future_.cancel();
  }

 private:
  // Detaches the link and claims the future; false if it was cancelled (or
  // completed by somebody else) meanwhile.
  bool settle() noexcept {
    std::exchange(link_, nullptr)->detach();
    try {
      return future_.set_running_or_notify_cancel();
    } catch (const RuntimeError&) {
      return false;
    }
  }

  futures::Future<T> future_;
  std::shared_ptr<ThreadsafeLink> link_;  // null once settled
};

// The body of the task: runs `coro` inline and hands its outcome over.
template <class T>
Task<void> run_chained(Task<T> coro, ChainedFuture<T> chain) {
  chain.attach();
  try {
    if constexpr (std::is_void_v<T>) {
      co_await std::move(coro);
      chain.set_result();
    } else {
      chain.set_result(co_await std::move(coro));
    }
  } catch (const weft::CancelledError&) {
    chain.cancel();
    throw;
  } catch (...) {
    chain.set_exception(std::current_exception());
  }
}

}  // namespace weft::aio::detail
