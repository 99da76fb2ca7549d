// weft/dist/executor.hpp — weft::dist::Executor: concurrent.futures'
// Executor whose tasks run on `weft worker` processes on any number of
// hosts, through one Redis.
//
//   long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
//   WEFT_DIST_TASK(fib);
//
//   dist::Executor executor("redis://10.0.0.5:6379/0", "math");
//   futures::Future<long> f = executor.submit(fib, 30);
//   for (long r : executor.map(fib, std::vector{10, 20, 30})) ...
//
// Tasks are registered functions (weft/dist/registry.hpp) with
// codec-encodable arguments and results; a descriptor (an mp::Connection,
// a net::Socket) cannot be an argument, since no other machine could use
// it. submit() encodes the arguments at once (codec::EncodeError if it
// cannot), never blocks, and returns a
// futures::Future<R>; a background thread sends tasks to Redis in batches
// (XADD, pipelined) and another receives results on this executor's own
// stream and completes the futures, in this process. Done-callbacks run
// on the thread that completes the future: the receiver for results, the
// sender for a task that could not be sent, the destroying thread for
// futures failed by the destructor. A future is pending until the sender
// takes its task, then running (cancel() succeeds only before); it
// completes exactly once, even when a worker died and the task ran twice.
//
// Failure: the function's exception is re-thrown by result() (as the same
// type when registered, see weft/mp/remote_error.hpp); a task given up
// (too many lost deliveries, an unknown function) fails with
// DeadLetterError; one past ExecutorOptions::task_timeout with
// TaskTimeoutError; one whose arguments, or result, are longer than Redis
// takes (its proto-max-bulk-len) with RedisResponseError, and the other
// tasks are sent as usual. If Redis goes away the executor reconnects with
// backoff, resends what it was sending (at-least-once) and reads its
// results stream on from where it was. If Redis stays unreachable longer
// than ConnectOptions::connect_timeout, the futures concerned fail with
// RedisConnectionError: the tasks it could not send, and, when the results
// cannot be read, every task waiting for a result (a worker may still run
// it; its result is then dropped). Tasks lost by Redis itself (a restart
// without persistence, FLUSHALL, a failover to a replica that had not
// seen them) are not detected: their futures stay pending, as they do
// when no worker serves the queue (as with Celery): use result(timeout),
// and note that shutdown(wait = true), and so the destructor, waits for
// them.
//
// The constructor connects and throws RedisConnectionError if Redis cannot
// be reached. shutdown(wait, cancel_futures): no new submissions
// (RuntimeError); cancel_futures cancels the futures not yet sent; wait
// blocks until every future is done. The destructor is shutdown(true).
//
// Thread-safety: every member may be called from any thread; shutdown(wait
// = true) not from a done-callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "weft/codec/function.hpp"
#include "weft/dist/detail/encode.hpp"
#include "weft/dist/errors.hpp"
#include "weft/dist/redis.hpp"
#include "weft/dist/registry.hpp"
#include "weft/futures/executor.hpp"
#include "weft/futures/future.hpp"
#include "weft/mp/detail/worker_pool_sinks.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"

namespace weft::dist {

struct ExecutorOptions {
  // A task whose worker is lost (dies, or stops answering Redis) is run
  // again up to this many times, then dead-lettered.
  unsigned max_retries = 3;
  // The time limit of each task; zero for none, never negative.
  std::chrono::milliseconds task_timeout{0};
  ConnectOptions connection = {};
};

namespace detail {

// A task ready to send.
struct OutgoingTask {
  const RegisteredTask* function = nullptr;
  std::string args;
  std::shared_ptr<mp::detail::TaskSink> sink;
};

class ExecutorCore;

}  // namespace detail

class Executor : public futures::Executor<Executor> {
 public:
  // Throws ValueError for a bad URL or queue name, a negative
  // options.task_timeout or bad options.connection (see ConnectOptions),
  // RedisConnectionError if Redis cannot be reached.
  Executor(std::string_view redis_url, std::string queue, ExecutorOptions options = {});
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;
  ~Executor();

  // Schedules f(args...) on a worker; never blocks. Throws ValueError if f
  // is not registered, RuntimeError after shutdown, codec::EncodeError for
  // arguments that cannot be encoded.
  template <class F, class... Args>
  auto submit(F&& f, Args&&... args) {
    static_assert(codec::FunctionReference<F>,
                  "a dist::Executor task must be a registered function (a free function or a "
                  "captureless lambda; see weft/dist/registry.hpp)");
    const auto fn = codec::function_pointer(f);
    using Fn = std::remove_const_t<decltype(fn)>;
    using R = typename mp::detail::Signature<Fn>::result;
    static_assert(mp::detail::Signature<Fn>::arity == sizeof...(Args), "wrong number of arguments for the task");
    detail::OutgoingTask task;
    task.function = registered(reinterpret_cast<const void*>(fn), codec::detail::signature_hash(typeid(Fn)));
    task.args = detail::encode_off_machine(typename mp::detail::Signature<Fn>::args(std::forward<Args>(args)...));
    futures::Future<R> future;
    task.sink = std::make_shared<mp::detail::CallSink<R>>(future, mp::detail::NoCallback{},
                                                          mp::detail::NoCallback{}, true);
    send(std::move(task));
    return future;
  }

  // See the top of this file.
  void shutdown(bool wait = true, bool cancel_futures = false);

  const std::string& queue() const noexcept;
  // This executor's id: its results stream is weft:{queue}:results:<id>.
  const std::string& id() const noexcept;

 private:
  // Throws ValueError naming the function's registration macro.
  static const detail::RegisteredTask* registered(const void* fn, std::uint64_t signature);
  void send(detail::OutgoingTask task);

  std::unique_ptr<detail::ExecutorCore> core_;
};

}  // namespace weft::dist
