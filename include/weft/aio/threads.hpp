// weft/aio/threads.hpp — asyncio and threads: awaiting work done on other
// threads (or processes), and handing coroutines to a loop that runs on
// another thread.
//
//   co_await aio::to_thread(f, args...)              f(args...) on the loop's
//                                                    default executor
//   co_await aio::run_in_executor(&pool, f, args...) f(args...) on `pool`
//                                                    (nullptr: the default)
//   co_await aio::wrap_future(future)                a futures::Future
//   futures::Future<T> f =
//       aio::run_coroutine_threadsafe(coro(), loop)  from a plain thread
//
// The first three return Task<T>, so they also go to gather(), wait_for()
// and create_task(). While a task waits for another thread, its loop knows
// that it will be called back (EventLoop::keep_alive()): a loop with nothing
// else to do waits instead of reporting a deadlock. The wake-up comes
// through call_soon_threadsafe; no loop thread ever blocks.
//
// Cancellation follows Python: cancelling a task that awaits a concurrent
// future cancels that future — which stops its job only if the job has not
// started yet — and the task gets CancelledError at once, without waiting
// for the job. A future cancelled by somebody else makes the awaiting task
// get CancelledError too. Results and exceptions arrive with their types.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "weft/aio/detail/future_awaiter.hpp"
#include "weft/aio/detail/threadsafe_task.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/task.hpp"
#include "weft/futures/future.hpp"
#include "weft/futures/thread_pool_executor.hpp"

namespace weft::aio {

// asyncio.wrap_future: a coroutine that awaits `future`, completed on any
// thread, and returns its value (a copy: other handles may still read it;
// a value that cannot be copied is moved out, so await such a future once)
// or throws its exception. Suspends; await it inside a task. Throws
// CancelledError if the future was cancelled or the awaiting task is (which
// cancels the future).
template <class T>
Task<T> wrap_future(futures::Future<T> future) {
  constexpr auto mode = std::is_void_v<T> || std::is_copy_constructible_v<T> ? detail::FutureValue::copy
                                                                             : detail::FutureValue::take;
  return detail::await_future<T, mode>(std::move(future));
}

// loop.run_in_executor: submits f(args...) to `executor` now — a
// futures::ThreadPoolExecutor, a ProcessPoolExecutor (with its rules for
// functions and arguments) or anything else with submit() returning a
// futures::Future — and returns a coroutine that awaits the result. With
// nullptr (or a null ThreadPoolExecutor*) it uses the running loop's
// default executor, EventLoop::default_executor(). Never blocks. Throws what
// submit() throws (RuntimeError after the executor's shutdown, ...), and
// RuntimeError for the default executor outside a running loop; the
// awaited coroutine throws f's exception or CancelledError (see above).
template <class Executor, class F, class... Args>
auto run_in_executor(Executor* executor, F&& f, Args&&... args) {
  if constexpr (std::is_same_v<Executor, futures::ThreadPoolExecutor>) {
    if (executor == nullptr) executor = &get_running_loop().default_executor();
  } else {
    if (executor == nullptr) throw ValueError("run_in_executor() of a null executor");
  }
  auto future = executor->submit(std::forward<F>(f), std::forward<Args>(args)...);
  using R = typename decltype(future)::value_type;
  return detail::await_future<R, detail::FutureValue::take>(std::move(future));
}

template <class F, class... Args>
auto run_in_executor(std::nullptr_t, F&& f, Args&&... args) {
  return run_in_executor(&get_running_loop().default_executor(), std::forward<F>(f), std::forward<Args>(args)...);
}

// asyncio.to_thread: a coroutine that runs f(args...) (copies of them) on
// the running loop's default executor when it is awaited, and returns its
// value or throws its exception. Suspends; await it inside a task. Throws
// CancelledError when the awaiting task is cancelled (f, once started,
// still runs to its end on its thread, as in Python).
template <class F, class... Args>
Task<std::invoke_result_t<F, Args...>> to_thread(F f, Args... args) {
  using R = std::invoke_result_t<F, Args...>;
  futures::ThreadPoolExecutor& executor = get_running_loop().default_executor();
  co_return co_await detail::FutureAwaiter<R, detail::FutureValue::take>(
      executor.submit(std::move(f), std::move(args)...));
}

// asyncio.run_coroutine_threadsafe: schedules `coro` as a task of `loop`,
// which runs on another thread, and returns a future of its result. Call
// it from any thread but the loop's own (blocking on the future there would
// deadlock); never blocks. The task's value or exception completes the
// future; a task that ends cancelled, or never runs because the loop closes
// first, cancels it. Cancelling the future (future.cancel()) cancels the
// task. Throws ValueError for an empty Task, RuntimeError if the loop is
// closed (see EventLoop::call_soon_threadsafe).
template <class T>
futures::Future<T> run_coroutine_threadsafe(Task<T> coro, EventLoop& loop) {
  if (!coro) throw ValueError("run_coroutine_threadsafe() of an empty Task");
  futures::Future<T> future;
  auto link = std::make_shared<detail::ThreadsafeLink>();
  future.add_done_callback([link](const futures::Future<T>& done) {
    if (done.cancelled()) link->cancel_task();
  });
  Task<void> task = detail::run_chained(std::move(coro), detail::ChainedFuture<T>(future, std::move(link)));
  loop.call_soon_threadsafe([&loop, task = std::move(task)]() mutable {
    // A loop delivering its last callbacks as it closes runs no more tasks:
    // the coroutine, dropped, cancels the future.
    if (loop.is_running()) loop.create_task(std::move(task));
  });
  return future;
}

}  // namespace weft::aio
