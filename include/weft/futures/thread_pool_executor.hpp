// weft/futures/thread_pool_executor.hpp — weft::futures::ThreadPoolExecutor,
// Python's concurrent.futures.ThreadPoolExecutor.
//
// A pool of up to max_workers threads (default min(32, mp::process_cpu_count() +
// 4), as in Python) that runs submitted callables and completes their futures.
// Workers start lazily, as Python's do: a submit() that finds no idle worker
// starts a new one until max_workers exist. They are named
// "<thread_name_prefix>_<n>" (default prefix "ThreadPoolExecutor-<k>"), and
// run `initializer` once when they start; if it throws, the pool is broken:
// pending futures fail with BrokenThreadPool and so does every later
// submit().
//
// Each worker has its own task queue; submissions are spread over them and
// an idle worker steals from the others, so tiny tasks scale. A task
// submitted from inside a worker goes to that worker's own queue.
//
// shutdown(wait, cancel_futures): no new submissions (RuntimeError); with
// cancel_futures, every task not yet started is cancelled; with wait, blocks
// until the remaining tasks ran and the workers exited. The destructor is
// shutdown(wait = true) and never returns while a worker still runs, except
// on one of the pool's own workers (a task or done-callback held the last
// reference to the executor): it then waits for the other workers, and
// that worker frees the pool once it has run what is left and exits.
//
// Thread-safety: every member may be called from any thread, including from
// inside tasks (but a task that calls shutdown(wait = true) on its own pool
// deadlocks, as in Python).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "weft/detail/block_cache.hpp"
#include "weft/futures/executor.hpp"
#include "weft/futures/future.hpp"

namespace weft::futures {

namespace detail {

// A unit of work the pool runs: type-erased, allocated together with the
// future's state.
class Work {
 public:
  virtual void run() noexcept = 0;
  virtual void fail(std::exception_ptr error) noexcept = 0;
  virtual void cancel_pending() noexcept = 0;

 protected:
  ~Work() = default;
};

template <class R, class Fn>
class Task final : public State<R>, public Work {
 public:
  explicit Task(Fn fn) : fn_(std::move(fn)) {}

  void run() noexcept override {
    if (!this->set_running_or_notify_cancel()) return;
    try {
      if constexpr (std::is_void_v<R>) {
        fn_();
        this->set_result();
      } else {
        this->set_result(fn_());
      }
    } catch (...) {
      this->set_exception(std::current_exception());
    }
  }
  void fail(std::exception_ptr error) noexcept override {
    try {
      this->set_exception(std::move(error));
    } catch (const InvalidStateError&) {
    }
  }
  void cancel_pending() noexcept override { this->cancel(); }

 private:
  Fn fn_;
};

class ThreadPool;

}  // namespace detail

class ThreadPoolExecutor : public Executor<ThreadPoolExecutor> {
 public:
  // max_workers = 0 means min(32, mp::process_cpu_count() + 4).
  explicit ThreadPoolExecutor(std::size_t max_workers = 0, std::string thread_name_prefix = "",
                              std::function<void()> initializer = {});
  ThreadPoolExecutor(const ThreadPoolExecutor&) = delete;
  ThreadPoolExecutor& operator=(const ThreadPoolExecutor&) = delete;
  ~ThreadPoolExecutor();

  // Schedules fn(args...) (arguments copied or moved in) and returns its
  // future. Never blocks. Throws RuntimeError after shutdown() or while
  // 2^30 futures are pending, BrokenThreadPool once an initializer failed.
  template <class F, class... Args>
  auto submit(F&& fn, Args&&... args) -> Future<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>> {
    using R = std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>;
    auto call = [fn = std::forward<F>(fn), bound = std::make_tuple(std::forward<Args>(args)...)]() mutable -> R {
      return std::apply(fn, std::move(bound));
    };
    auto task = std::allocate_shared<detail::Task<R, decltype(call)>>(weft::detail::CachedAllocator<char>(),
                                                                       std::move(call));
    schedule(std::shared_ptr<detail::Work>(task, task.get()));
    return Future<R>(std::move(task));
  }

  void shutdown(bool wait = true, bool cancel_futures = false);

  std::size_t max_workers() const noexcept;
  // Workers started so far.
  std::size_t worker_count() const noexcept;

 private:
  void schedule(std::shared_ptr<detail::Work> work);

  std::shared_ptr<detail::ThreadPool> pool_;
};

}  // namespace weft::futures
