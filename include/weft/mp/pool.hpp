// weft/mp/pool.hpp — weft::mp::Pool, Python's multiprocessing.Pool: a fixed
// set of worker processes that run tasks and send their results back.
//
//   mp::Pool pool(4);
//   auto r = pool.apply_async(square, std::tuple{7}, [](const int& v) { ... });
//   std::vector<int> squares = pool.map(square, numbers);
//   for (int s : pool.imap(square, numbers)) ...
//   pool.close(); pool.join();
//
// Tasks are functions by reference — free functions or captureless lambdas
// — whatever the start method: the workers are started once, before the
// tasks exist, so a lambda with captures could not reach them (a
// compile-time error says so). Arguments are passed as Python passes
// `args`, a tuple converted to the function's parameter types; they and the
// result must be codec-encodable. Arguments are encoded by the submitting
// call, so one that cannot be encoded throws codec::EncodeError from it at
// once; a result that cannot be encoded fails that task (get() throws
// codec::EncodeError), never the pool.
//
// Workers are started with the pool's context (fork by default; spawn and
// forkserver work alike) and named "ForkPoolWorker-N" (Spawn..., Forkserver...).
// `initializer(initargs...)` runs once in each worker as it starts. The
// initargs reach each worker as a Process's arguments do, by inheritance:
// a fork worker has its own copy of them, and for spawn and forkserver they
// are encoded as part of each worker's start. So a Lock, RLock, Semaphore,
// Event, Condition, Queue, Value, Array, Connection or net::Socket may be
// one (Python's Pool(n, init, (lock,)) idiom), and every worker, the
// replacements of dead ones and maxtasksperchild's included, gets it. If
// the initializer throws, the pool is broken: every pending and later task fails with
// futures::BrokenProcessPool carrying its message (Python's Pool would
// start new workers forever). So it is if the initializer crashes (a
// segfault, abort(), exit()) in three workers in a row, none finishing it
// in between. A worker killed in it by SIGKILL or SIGTERM (an operator, the
// OOM killer) is replaced like any other and never counts, so an
// initializer killed every time has new workers started for as long as
// that goes on. With `maxtasksperchild`, a worker exits after
// that many tasks (a chunk counts as one) and a new one replaces it.
//
// Failure, better than Python: a worker that dies (SIGKILL, abort, a
// segfault, the OOM killer) fails exactly the task it was running with
// WorkerLostError naming its pid and signal (for a chunk, every item of
// it), as does a task whose worker died after it returned but before its
// result arrived (never run a second time); the worker is replaced, every
// other task completes and the pool stays usable. (Python's Pool hangs
// forever there.) If it cannot be replaced (the OS refuses a process or
// descriptors), the pool is broken: every pending and later task fails
// with futures::BrokenProcessPool naming the cause. A task that throws
// re-raises from get() with its type and message (weft/mp/remote_error.hpp).
//
// Callbacks run in this process on the pool's thread (Python's result
// handler thread), in the order results arrive, before the result is
// marked ready: `callback(const R&)` on success, `error_callback(
// std::exception_ptr)` on failure. An exception from a callback is
// reported on standard error (see futures::set_callback_exception_handler)
// and never stops the pool. Blocking on a result that is not ready from a
// callback throws RuntimeError rather than deadlocking.
//
// Chunks: map, map_async, starmap and starmap_async split the items into
// chunks of `chunksize` (by default as Python computes it: the items over
// four times the workers, rounded up); imap and imap_unordered use 1 by
// default. A chunk is one task. Items and results of arithmetic or enum
// types travel as raw arrays. An item that throws fails only its position:
// map() raises the first failure it receives, imap raises at that position
// and can go on. Results of chunked calls must be default-constructible.
//
// Lifetime: close() refuses new work; the workers exit once every task is
// done; join() waits for that (after close() or terminate(); before either
// it throws ValueError "Pool is still running"). terminate() kills the
// workers at once and fails every task not done with weft::CancelledError.
// The destructor calls terminate(), as Python's Pool.__exit__ does — unless
// close() was called, then it joins. In one of the pool's own callbacks,
// terminate() and the destructor cannot wait for the pool's thread: they
// return at once and the workers are stopped (or, closed, finish the queued
// tasks) once the callback has returned.
//
// Thread-safety: every member may be called from any thread, join() and
// terminate() from several at once (the blocking calls not from a
// callback, join() not from one of this pool's). A Pool is not usable in
// its workers or in a forked child.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/codec/function.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/detail/worker_pool.hpp"
#include "weft/mp/detail/worker_pool_sinks.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"
#include "weft/mp/pool/async_result.hpp"
#include "weft/mp/pool/imap.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::mp {

struct PoolOptions {
  std::optional<std::size_t> processes = {};         // default: process_cpu_count()
  std::optional<std::size_t> maxtasksperchild = {};  // default: workers live as long as the pool
  std::optional<Context> context = {};               // default: get_context()
};

namespace detail {

template <class F>
constexpr void check_pool_function() {
  static_assert(codec::FunctionReference<F>,
                "a pool task must be a function by reference (a free function or a captureless "
                "lambda): the workers started before the task existed, so a lambda's captures "
                "could not reach them");
}

template <class F>
using PoolFn = decltype(codec::function_pointer(std::declval<F>()));

template <class F>
using PoolResult = typename Signature<PoolFn<F>>::result;

std::size_t default_chunksize(std::size_t items, std::size_t processes) noexcept;

}  // namespace detail

class Pool {
 public:
  Pool() : Pool(PoolOptions{}) {}
  explicit Pool(std::size_t processes) : Pool(PoolOptions{.processes = processes}) {}
  // Starts the workers. Throws ValueError for 0 processes or a
  // maxtasksperchild of 0, std::system_error if the OS refuses.
  explicit Pool(PoolOptions options) : Pool(std::move(options), detail::Initializer()) {}
  // The same, running initializer(initargs...) once in each worker (see
  // above). With spawn and forkserver, throws codec::EncodeError for
  // initargs that cannot be encoded (a closed Connection, say); a worker
  // started later that cannot encode them breaks the pool.
  template <class Init, class... InitArgs>
  Pool(PoolOptions options, Init&& initializer, InitArgs&&... initargs)
      : Pool(std::move(options), detail::make_initializer(codec::function_pointer(initializer),
                                                            std::forward<InitArgs>(initargs)...)) {
    detail::check_pool_function<Init>();
  }

  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  // terminate(), or join() after close(); see the top of this file.
  ~Pool();

  // f(args...) in a worker; blocks for the result (or re-throws). Throws
  // RuntimeError from a callback, ValueError("Pool not running") after
  // close()/terminate(), BrokenProcessPool once broken.
  template <class F, class... Args>
  auto apply(F&& f, std::tuple<Args...> args = {}) {
    auto result = apply_async(std::forward<F>(f), std::move(args));
    if constexpr (std::is_void_v<detail::PoolResult<F>>) {
      result.get();
    } else {
      return detail::Stored<detail::PoolResult<F>>(result.get());
    }
  }

  // f(args...) in a worker, without blocking. Throws codec::EncodeError for
  // arguments that cannot be encoded, and as apply() for a closed pool.
  template <class F, class... Args, class Callback = detail::NoCallback,
            class ErrorCallback = detail::NoCallback>
  AsyncResult<detail::PoolResult<F>> apply_async(F&& f, std::tuple<Args...> args = {}, Callback callback = {},
                                                 ErrorCallback error_callback = {}) {
    detail::check_pool_function<F>();
    using Fn = detail::PoolFn<F>;
    using R = detail::PoolResult<F>;
    static_assert(detail::Signature<Fn>::arity == sizeof...(Args), "wrong number of arguments for the task");
    const Fn fn = codec::function_pointer(f);
    detail::Loans loans;  // a socket in `args` stays lent only if the task is submitted
    std::string encoded = loans.record(
        [&] { return codec::encode(typename detail::Signature<Fn>::args(std::move(args))); });
    const std::uint32_t id = detail::intern_function<detail::CallRunner<Fn>>(*pool_, fn);
    futures::Future<R> future;
    future.set_running_or_notify_cancel();
    pool_->submit(id, std::move(encoded),
                  std::make_shared<detail::CallSink<R, Callback, ErrorCallback>>(
                      future, std::move(callback), std::move(error_callback), false));
    loans.keep();
    return AsyncResult<R>(std::move(future));
  }

  // f(item) for every item, in a vector in order; blocks (see the top for
  // chunks and errors).
  template <class F, std::ranges::input_range Items>
  auto map(F&& f, Items&& items, std::optional<std::size_t> chunksize = {}) {
    return map_async(std::forward<F>(f), std::forward<Items>(items), chunksize).get();
  }
  template <class F, std::ranges::input_range Items, class Callback = detail::NoCallback,
            class ErrorCallback = detail::NoCallback>
  auto map_async(F&& f, Items&& items, std::optional<std::size_t> chunksize = {}, Callback callback = {},
                 ErrorCallback error_callback = {}) {
    return map_chunks<false>(std::forward<F>(f), std::forward<Items>(items), chunksize, std::move(callback),
                             std::move(error_callback));
  }

  // f(args...) for every tuple of arguments.
  template <class F, std::ranges::input_range Items>
  auto starmap(F&& f, Items&& items, std::optional<std::size_t> chunksize = {}) {
    return starmap_async(std::forward<F>(f), std::forward<Items>(items), chunksize).get();
  }
  template <class F, std::ranges::input_range Items, class Callback = detail::NoCallback,
            class ErrorCallback = detail::NoCallback>
  auto starmap_async(F&& f, Items&& items, std::optional<std::size_t> chunksize = {}, Callback callback = {},
                     ErrorCallback error_callback = {}) {
    return map_chunks<true>(std::forward<F>(f), std::forward<Items>(items), chunksize, std::move(callback),
                            std::move(error_callback));
  }

  // f(item) for every item, results streaming back in order
  // (IMapIterator). All tasks are submitted at once.
  template <class F, std::ranges::input_range Items>
  IMapIterator<detail::PoolResult<F>> imap(F&& f, Items&& items, std::size_t chunksize = 1) {
    return imap_chunks(std::forward<F>(f), std::forward<Items>(items), chunksize, true);
  }
  // The same, in the order results arrive.
  template <class F, std::ranges::input_range Items>
  IMapIterator<detail::PoolResult<F>> imap_unordered(F&& f, Items&& items, std::size_t chunksize = 1) {
    return imap_chunks(std::forward<F>(f), std::forward<Items>(items), chunksize, false);
  }

  // No more tasks; the workers exit once the queued ones are done. Never
  // blocks.
  void close();
  // Kills the workers now; tasks not done fail with weft::CancelledError.
  // Blocks until the workers are reaped (not in this pool's callbacks: see
  // the top of this file).
  void terminate();
  // Blocks until the workers have exited, after close() or terminate().
  // Throws ValueError("Pool is still running") before either.
  void join();

  // The number of worker processes.
  std::size_t processes() const noexcept { return pool_->processes(); }

 private:
  Pool(PoolOptions options, detail::Initializer initializer);

  // The items as Items of the function's parameter type: a view of the
  // caller's own contiguous range when it already holds exactly that type
  // (the chunks are packed before map() returns), else a copy.
  template <class Item, class Items>
  static auto gather(Items&& items) {
    if constexpr (std::ranges::contiguous_range<Items> && std::ranges::sized_range<Items> &&
                  std::is_same_v<std::remove_cv_t<std::ranges::range_value_t<Items>>, Item>) {
      return std::span<const Item>(std::ranges::data(items), std::ranges::size(items));
    } else {
      std::vector<Item> all;
      for (auto&& item : items) all.emplace_back(std::forward<decltype(item)>(item));
      return all;
    }
  }
  template <class F, class Items>
  static auto collect(Items&& items) {
    using Fn = detail::PoolFn<F>;
    using Item = std::tuple_element_t<0, typename detail::Signature<Fn>::args>;
    static_assert(detail::Signature<Fn>::arity == 1, "map and imap take a function of one argument");
    return gather<Item>(std::forward<Items>(items));
  }
  template <class F, class Items>
  static auto collect_tuples(Items&& items) {
    return gather<typename detail::Signature<detail::PoolFn<F>>::args>(std::forward<Items>(items));
  }

  // Submits `all` in chunks, each to a ChunkSink on `state`.
  template <class Fn, bool Star, class State, class Item>
  void submit_chunks(Fn fn, std::span<const Item> all, std::size_t chunksize,
                     const std::shared_ptr<State>& state) {
    using R = typename detail::Signature<Fn>::result;
    const std::uint32_t id = detail::intern_function<detail::ChunkRunner<Fn, Star>>(*pool_, fn);
    for (std::size_t start = 0; start < all.size(); start += chunksize) {
      const std::size_t count = std::min(chunksize, all.size() - start);
      std::string encoded;
      detail::Loans loans;  // sockets in a chunk stay lent only if it is submitted
      loans.record([&] {
        detail::pack_items<Item>(encoded, all.begin() + static_cast<std::ptrdiff_t>(start),
                                 all.begin() + static_cast<std::ptrdiff_t>(start + count));
      });
      pool_->submit(id, std::move(encoded),
                    std::make_shared<detail::ChunkSink<R, State>>(state, start, count));
      loans.keep();
    }
  }

  template <bool Star, class F, class Items, class Callback, class ErrorCallback>
  auto map_chunks(F&& f, Items&& items, std::optional<std::size_t> chunksize, Callback callback,
                  ErrorCallback error_callback) {
    detail::check_pool_function<F>();
    using R = detail::PoolResult<F>;
    const auto fn = codec::function_pointer(f);
    const auto gathered = [&] {
      if constexpr (Star)
        return collect_tuples<F>(std::forward<Items>(items));
      else
        return collect<F>(std::forward<Items>(items));
    }();
    const std::span all(gathered);
    const std::size_t size = chunksize.value_or(detail::default_chunksize(all.size(), processes()));
    if (size == 0 && !all.empty()) throw ValueError("Chunksize must be 1+");
    const std::size_t chunks = all.empty() ? 0 : (all.size() + size - 1) / size;
    futures::Future<std::vector<detail::Stored<R>>> future;
    future.set_running_or_notify_cancel();
    using State = detail::MapState<R, Callback, ErrorCallback>;
    auto state =
        std::make_shared<State>(future, all.size(), chunks, std::move(callback), std::move(error_callback));
    if (all.empty()) {
      check_running();
      state->finish_empty();
    } else {
      submit_chunks<std::decay_t<decltype(fn)>, Star>(fn, all, size, state);
    }
    return AsyncResult<std::vector<detail::Stored<R>>>(std::move(future));
  }

  template <class F, class Items>
  IMapIterator<detail::PoolResult<F>> imap_chunks(F&& f, Items&& items, std::size_t chunksize, bool ordered) {
    detail::check_pool_function<F>();
    if (chunksize == 0) throw ValueError("Chunksize must be 1+, not 0");
    using R = detail::PoolResult<F>;
    const auto fn = codec::function_pointer(f);
    const auto gathered = collect<F>(std::forward<Items>(items));
    const std::span all(gathered);
    auto state = std::make_shared<detail::IMapState<R>>(all.size(), ordered);
    if (all.empty()) check_running();
    submit_chunks<std::decay_t<decltype(fn)>, false>(fn, all, chunksize, state);
    return IMapIterator<R>(std::move(state));
  }

  // Throws as submit() would for a pool that takes no more work.
  void check_running() const;

  std::unique_ptr<detail::WorkerPool> pool_;
};

}  // namespace weft::mp
