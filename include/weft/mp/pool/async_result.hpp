// weft/mp/pool/async_result.hpp — weft::mp::AsyncResult<T>, Python's
// multiprocessing.pool.AsyncResult: the eventual result of apply_async(),
// map_async() or starmap_async().
//
// get() blocks until the task is done, then returns its result (a
// reference valid while any copy of this AsyncResult lives) or re-throws
// its exception with its type and message (see weft/mp/remote_error.hpp);
// get(timeout) throws weft::TimeoutError — Python's
// multiprocessing.TimeoutError — when it is not done in time. A task whose
// worker died throws WorkerLostError; one whose pool was terminated throws
// weft::CancelledError.
//
// A callback runs on the pool's thread, so blocking there on a result that
// is not ready would never end: get() and wait() called on a pool thread
// for a result not yet ready throw RuntimeError instead.
//
// Thread-safety: every member may be called from any thread, on any copy.
#pragma once

#include <chrono>
#include <exception>
#include <utility>

#include "weft/errors.hpp"
#include "weft/futures/future.hpp"
#include "weft/mp/detail/worker_pool.hpp"

namespace weft::mp {

template <class T>
class AsyncResult {
 public:
  using result_type = typename futures::Future<T>::result_type;

  explicit AsyncResult(futures::Future<T> future) noexcept : future_(std::move(future)) {}

  // Blocks until ready; the result, or the task's exception re-thrown.
  result_type get() const {
    check_may_block();
    return future_.result();
  }
  // The same, throwing weft::TimeoutError if not ready within `timeout`.
  template <class Rep, class Period>
  result_type get(std::chrono::duration<Rep, Period> timeout) const {
    check_may_block();
    if (!future_.wait(timeout)) throw TimeoutError("the result is not ready");
    return future_.result();
  }
  // Blocks until ready. The timed form returns whether it is.
  void wait() const {
    check_may_block();
    future_.wait();
  }
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) const {
    check_may_block();
    return future_.wait(timeout);
  }
  // Whether the task is done. Never blocks.
  bool ready() const noexcept { return future_.done(); }
  // Whether it is done without an exception. Throws ValueError if not
  // ready ("AsyncResult is not ready").
  bool successful() const {
    if (!ready()) throw ValueError("AsyncResult is not ready");
    return future_.exception() == nullptr;
  }
  // The future behind this result.
  const futures::Future<T>& future() const noexcept { return future_; }

 private:
  void check_may_block() const {
    if (!ready() && detail::WorkerPool::on_pool_thread())
      throw RuntimeError(
          "cannot wait for a pool result on a pool's own thread (in a callback): "
          "it could never complete");
  }

  futures::Future<T> future_;
};

}  // namespace weft::mp
