// weft/mp/detail/worker_pool_sinks.hpp — the parent's side of a pool task:
// sinks that decode a worker's answer into a Future and run the callbacks
// Pool::apply_async and map_async take (on the pool thread, before the
// result is marked ready, as Python's result handler does).
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/futures/future.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"

namespace weft::mp::detail {

// "No callback".
struct NoCallback {};

template <class Callback, class... Args>
void run_callback(Callback& callback, Args&&... args) noexcept {
  if constexpr (!std::is_same_v<Callback, NoCallback>) {
    try {
      callback(std::forward<Args>(args)...);
    } catch (...) {
      futures::detail::report_callback_exception(std::current_exception());
    }
  }
}

// Completes `future` with `value` after calling callback(value).
template <class R, class Callback>
void succeed(futures::Future<R>& future, Callback& callback, Stored<R>&& value) noexcept {
  run_callback(callback, std::as_const(value));
  try {
    if constexpr (std::is_void_v<R>) {
      future.set_result();
    } else {
      future.set_result(std::move(value));
    }
  } catch (const futures::InvalidStateError&) {
  }
}

template <class R, class ErrorCallback>
void fail_future(futures::Future<R>& future, ErrorCallback& error_callback,
                 std::exception_ptr error) noexcept {
  run_callback(error_callback, error);
  try {
    future.set_exception(std::move(error));
  } catch (const futures::InvalidStateError&) {
  }
}

// One call (apply_async, submit).
template <class R, class Callback = NoCallback, class ErrorCallback = NoCallback>
class CallSink final : public TaskSink {
 public:
  CallSink(futures::Future<R> future, Callback callback, ErrorCallback error_callback, bool runs_future)
      : future_(std::move(future)),
        callback_(std::move(callback)),
        error_callback_(std::move(error_callback)),
        runs_future_(runs_future) {}

  bool start() noexcept override {
    if (!runs_future_) return true;
    try {
      return future_.set_running_or_notify_cancel();
    } catch (...) {
      return false;
    }
  }
  void complete(Outcome outcome, std::string_view payload) noexcept override {
    if (outcome != Outcome::value) return fail(decode_error_payload(payload));
    std::optional<Stored<R>> value;
    try {
      value.emplace(codec::decode<Stored<R>>(payload));
    } catch (...) {
      return fail(std::current_exception());
    }
    succeed(future_, callback_, std::move(*value));
  }
  void fail(std::exception_ptr error) noexcept override {
    fail_future(future_, error_callback_, std::move(error));
  }
  void cancel() noexcept override {
    if (runs_future_)
      future_.cancel();
    else
      fail(std::make_exception_ptr(CancelledError()));
  }

 private:
  futures::Future<R> future_;
  Callback callback_;
  ErrorCallback error_callback_;
  bool runs_future_;  // a ProcessPoolExecutor future: pending until dispatched
};

// The whole result of map_async over every chunk; fails with the first
// chunk error, as Python's MapResult does.
template <class R, class Callback, class ErrorCallback>
class MapState {
 public:
  MapState(futures::Future<std::vector<Stored<R>>> future, std::size_t size, std::size_t chunks,
           Callback callback, ErrorCallback error_callback)
      : future_(std::move(future)),
        results_(size),
        remaining_(chunks),
        callback_(std::move(callback)),
        error_callback_(std::move(error_callback)) {}

  void chunk_done(std::size_t start, ChunkOutcome<R>&& chunk) noexcept {
    if (failed_) return;
    if (!chunk.errors.empty()) return fail(chunk.errors.front().second);
    if (start + chunk.values.size() > results_.size() || --remaining_ < 0) {
      return fail(std::make_exception_ptr(codec::DecodeError("a chunk's result does not fit the map")));
    }
    std::move(chunk.values.begin(), chunk.values.end(),
              results_.begin() + static_cast<std::ptrdiff_t>(start));
    if (remaining_ == 0) succeed(future_, callback_, std::move(results_));
  }
  void chunk_failed(std::size_t, std::size_t, std::exception_ptr error) noexcept { fail(std::move(error)); }
  void fail(std::exception_ptr error) noexcept {
    if (failed_) return;
    failed_ = true;
    fail_future(future_, error_callback_, std::move(error));
  }
  // A map of nothing.
  void finish_empty() noexcept { succeed(future_, callback_, std::move(results_)); }

 private:
  futures::Future<std::vector<Stored<R>>> future_;
  std::vector<Stored<R>> results_;
  std::ptrdiff_t remaining_;
  bool failed_ = false;
  Callback callback_;
  ErrorCallback error_callback_;
};

// Anything that takes chunk outcomes: MapState, an imap's state.
template <class R, class State>
class ChunkSink final : public TaskSink {
 public:
  ChunkSink(std::shared_ptr<State> state, std::size_t start, std::size_t count)
      : state_(std::move(state)), start_(start), count_(count) {}
  void complete(Outcome outcome, std::string_view payload) noexcept override {
    ChunkOutcome<R> chunk;
    try {
      chunk = decode_chunk<R>(outcome, payload);
    } catch (...) {
      return fail(std::current_exception());
    }
    state_->chunk_done(start_, std::move(chunk));
  }
  void fail(std::exception_ptr error) noexcept override {
    state_->chunk_failed(start_, count_, std::move(error));
  }
  void cancel() noexcept override { fail(std::make_exception_ptr(CancelledError())); }

 private:
  std::shared_ptr<State> state_;
  std::size_t start_;
  std::size_t count_;
};

}  // namespace weft::mp::detail
