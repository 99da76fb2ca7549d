// weft/futures/process_pool_executor.hpp — weft::futures::ProcessPoolExecutor,
// Python's concurrent.futures.ProcessPoolExecutor.
//
// A pool of max_workers worker processes (default: mp::process_cpu_count())
// that run submitted functions and complete their futures:
//
//   futures::ProcessPoolExecutor executor(4);
//   futures::Future<long> f = executor.submit(fib, 30);
//   f.add_done_callback([](futures::Future<long> done) { ... });
//
// Tasks are functions by reference (free functions, captureless lambdas)
// with codec-encodable arguments and results, whatever the start method,
// as for mp::Pool (see weft/mp/pool.hpp, which shares this engine): submit()
// encodes the arguments at once and throws codec::EncodeError for one that
// cannot be encoded; a result that cannot be encoded fails its future.
// A future cancelled before a worker takes it never runs.
//
// Options, as Python's constructor: max_workers, mp_context (the start
// method; fork by default), initializer + initargs (run once in each
// worker; the initargs reach each worker, replacements included, by
// inheritance, as mp::Pool's do, so a Lock, a Queue, a Value, a
// Connection... may be one; if it throws, the executor is broken: pending
// futures and every later submit() fail with BrokenProcessPool; so it is
// if the initializer crashes, not throws, in three workers in a row, none
// finishing it in between, while a worker killed in it by SIGKILL or
// SIGTERM is replaced and never counts), max_tasks_per_child (a worker
// exits after that many tasks and is replaced; Python requires spawn or
// forkserver for it, weft does not).
//
// Failure, better than Python: a worker that dies (SIGKILL, a crash, the
// OOM killer) fails only the future it was running, with
// mp::WorkerLostError naming its pid and signal, as it does a future whose
// task returned before the worker died but whose result never arrived
// (never run a second time); the worker is replaced and every other future
// completes. Python would instead break the whole executor and fail every
// pending future with BrokenProcessPool, which weft does only if the
// worker cannot be replaced (the OS refuses a process or descriptors).
//
// Done-callbacks run on the pool's thread in this process (Python's
// executor manager thread). A callback that throws is reported (see
// set_callback_exception_handler), never lost.
//
// map(f, xs...) is Executor::map; with MapOptions::chunksize > 1 the items
// travel to the workers in chunks of that size, as in Python.
//
// shutdown(wait, cancel_futures): no new submissions (RuntimeError "cannot
// schedule new futures after shutdown"); with cancel_futures, every future
// not yet running is cancelled (a running one completes, even one that a
// dead worker held and that therefore runs again in another); with wait,
// blocks until the running ones are done and the workers have exited.
// terminate_workers() and kill_workers() (Python 3.14) stop the workers at
// once with SIGTERM or SIGKILL: every future not done fails with
// BrokenProcessPool, and the executor is shut down. The destructor is
// shutdown(wait = true); in one of the executor's own done-callbacks it
// cannot wait, and the workers finish the queued work once the callback
// has returned.
//
// Thread-safety: every member may be called from any thread, shutdown and
// terminate_workers from several at once; shutdown(wait = true) not from
// one of this executor's done-callbacks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/codec/function.hpp"
#include "weft/futures/executor.hpp"
#include "weft/futures/future.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/detail/worker_pool.hpp"
#include "weft/mp/detail/worker_pool_sinks.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"
#include "weft/mp/remote_error.hpp"

namespace weft::futures {

struct ProcessPoolOptions {
  std::optional<std::size_t> max_workers = {};          // default: mp::process_cpu_count()
  std::optional<mp::Context> mp_context = {};           // default: mp::get_context()
  std::optional<std::size_t> max_tasks_per_child = {};  // default: unlimited
};

namespace detail {

// The items of one chunk of a chunked map(), each its own future.
template <class R>
class FutureChunkSink final : public mp::detail::TaskSink {
 public:
  explicit FutureChunkSink(std::vector<Future<R>> futures) : futures_(std::move(futures)) {}

  bool start() noexcept override {
    bool any = false;
    for (auto& future : futures_) {
      try {
        any = future.set_running_or_notify_cancel() || any;
      } catch (...) {
      }
    }
    return any;
  }
  void complete(mp::detail::Outcome outcome, std::string_view payload) noexcept override {
    mp::detail::ChunkOutcome<R> chunk;
    try {
      chunk = mp::detail::decode_chunk<R>(outcome, payload);
      if (chunk.values.size() != futures_.size())
        throw codec::DecodeError("a chunk's result has the wrong size");
    } catch (...) {
      return fail(std::current_exception());
    }
    std::vector<std::exception_ptr> errors(futures_.size());
    for (auto& [index, error] : chunk.errors)
      if (index < errors.size()) errors[index] = error;
    mp::detail::NoCallback none;
    for (std::size_t i = 0; i < futures_.size(); ++i) {
      if (futures_[i].done()) continue;
      if (errors[i])
        mp::detail::fail_future(futures_[i], none, errors[i]);
      else
        mp::detail::succeed(futures_[i], none, std::move(chunk.values[i]));
    }
  }
  void fail(std::exception_ptr error) noexcept override {
    mp::detail::NoCallback none;
    for (auto& future : futures_)
      if (!future.done()) mp::detail::fail_future(future, none, error);
  }
  void cancel() noexcept override {
    for (auto& future : futures_) future.cancel();
  }

 private:
  std::vector<Future<R>> futures_;
};

}  // namespace detail

class ProcessPoolExecutor : public Executor<ProcessPoolExecutor> {
 public:
  ProcessPoolExecutor() : ProcessPoolExecutor(ProcessPoolOptions{}) {}
  // Starts the workers. Throws ValueError("max_workers must be greater
  // than 0") and for a max_tasks_per_child of 0; std::system_error if the
  // OS refuses.
  explicit ProcessPoolExecutor(std::size_t max_workers)
      : ProcessPoolExecutor(ProcessPoolOptions{.max_workers = max_workers}) {}
  explicit ProcessPoolExecutor(ProcessPoolOptions options)
      : ProcessPoolExecutor(std::move(options), mp::detail::Initializer()) {}
  // The same, running initializer(initargs...) once in each worker. With
  // spawn and forkserver, throws codec::EncodeError for initargs that
  // cannot be encoded (see mp::Pool's constructor).
  template <class Init, class... InitArgs>
  ProcessPoolExecutor(ProcessPoolOptions options, Init&& initializer, InitArgs&&... initargs)
      : ProcessPoolExecutor(std::move(options),
                            mp::detail::make_initializer(codec::function_pointer(initializer),
                                                           std::forward<InitArgs>(initargs)...)) {}
  ProcessPoolExecutor(const ProcessPoolExecutor&) = delete;
  ProcessPoolExecutor& operator=(const ProcessPoolExecutor&) = delete;
  // shutdown(wait = true).
  ~ProcessPoolExecutor();

  // Schedules f(args...) in a worker; never blocks. Throws RuntimeError
  // after shutdown, BrokenProcessPool once broken, codec::EncodeError for
  // arguments that cannot be encoded.
  template <class F, class... Args>
  auto submit(F&& f, Args&&... args) {
    static_assert(codec::FunctionReference<F>,
                  "a ProcessPoolExecutor task must be a function by reference (a free function or a "
                  "captureless lambda): the workers started before the task existed");
    using Fn = decltype(codec::function_pointer(f));
    using R = typename mp::detail::Signature<Fn>::result;
    static_assert(mp::detail::Signature<Fn>::arity == sizeof...(Args),
                  "wrong number of arguments for the task");
    const Fn fn = codec::function_pointer(f);
    mp::detail::Loans loans;  // a socket in `args` stays lent only if the task is submitted
    std::string encoded = loans.record([&] {
      return codec::encode(typename mp::detail::Signature<Fn>::args(std::forward<Args>(args)...));
    });
    check_open();
    const std::uint32_t id = mp::detail::intern_function<mp::detail::CallRunner<Fn>>(*pool_, fn);
    Future<R> future;
    pool_->submit(id, std::move(encoded),
                  std::make_shared<mp::detail::CallSink<R>>(future, mp::detail::NoCallback{},
                                                            mp::detail::NoCallback{}, true),
                  &throw_shut_down);
    loans.keep();
    return future;
  }

  using Executor<ProcessPoolExecutor>::map;
  // Executor::map, sending the items in chunks of options.chunksize.
  template <class F, class... Ranges>
  auto map(MapOptions options, F&& f, Ranges&&... ranges) {
    if (options.chunksize <= 1)
      return Executor<ProcessPoolExecutor>::map(options, std::forward<F>(f), std::forward<Ranges>(ranges)...);
    using Fn = decltype(codec::function_pointer(f));
    using R = typename mp::detail::Signature<Fn>::result;
    using Args = typename mp::detail::Signature<Fn>::args;
    const weft::detail::Deadline deadline =
        options.timeout ? weft::detail::deadline_after_clamped(*options.timeout) : std::nullopt;
    std::vector<Args> all;
    zip_into(all, std::forward<Ranges>(ranges)...);
    check_open();
    const Fn fn = codec::function_pointer(f);
    const std::uint32_t id = mp::detail::intern_function<mp::detail::ChunkRunner<Fn, true>>(*pool_, fn);
    std::vector<Future<R>> futures(all.size());
    for (std::size_t start = 0; start < all.size(); start += options.chunksize) {
      const std::size_t count = std::min(options.chunksize, all.size() - start);
      const auto first = all.begin() + static_cast<std::ptrdiff_t>(start);
      std::string encoded;
      mp::detail::Loans loans;  // sockets in a chunk stay lent only if it is submitted
      loans.record(
          [&] { mp::detail::pack_items<Args>(encoded, first, first + static_cast<std::ptrdiff_t>(count)); });
      std::vector<Future<R>> chunk(futures.begin() + static_cast<std::ptrdiff_t>(start),
                                   futures.begin() + static_cast<std::ptrdiff_t>(start + count));
      pool_->submit(id, std::move(encoded), std::make_shared<detail::FutureChunkSink<R>>(std::move(chunk)),
                    &throw_shut_down);
      loans.keep();
    }
    return MapResults<R>(std::move(futures), deadline);
  }

  // See the top of this file. shutdown(wait = true) blocks until the
  // workers have exited.
  void shutdown(bool wait = true, bool cancel_futures = false);
  // Python 3.14: SIGTERM / SIGKILL every worker; futures not done fail with
  // BrokenProcessPool; the executor is shut down. Blocks until the workers
  // are reaped.
  void terminate_workers();
  void kill_workers();

  std::size_t max_workers() const noexcept { return pool_->processes(); }

 private:
  ProcessPoolExecutor(ProcessPoolOptions options, mp::detail::Initializer initializer);
  // Throws RuntimeError after shutdown, BrokenProcessPool once broken.
  void check_open() const;
  // RuntimeError("cannot schedule new futures after shutdown").
  [[noreturn]] static void throw_shut_down();

  template <class Args, class... Ranges>
  static void zip_into(std::vector<Args>& all, Ranges&&... ranges) {
    auto its = std::make_tuple(std::ranges::begin(ranges)...);
    const auto ends = std::make_tuple(std::ranges::end(ranges)...);
    auto at_end = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return ((std::get<I>(its) == std::get<I>(ends)) || ...);
    };
    auto take = [&]<std::size_t... I>(std::index_sequence<I...>) {
      all.emplace_back(*std::get<I>(its)...);
      (++std::get<I>(its), ...);
    };
    constexpr auto indices = std::index_sequence_for<Ranges...>{};
    while (!at_end(indices)) take(indices);
  }

  std::unique_ptr<mp::detail::WorkerPool> pool_;
};

}  // namespace weft::futures
