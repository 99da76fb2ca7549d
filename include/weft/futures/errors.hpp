// weft/futures/errors.hpp — the exceptions of Python's concurrent.futures.
#pragma once

#include "weft/errors.hpp"

namespace weft::futures {

// result() or exception() of a cancelled future.
using CancelledError = weft::CancelledError;

// result(), exception(), map() or as_completed() ran out of time.
using TimeoutError = weft::TimeoutError;

// set_result() or set_exception() on a future that is already done.
class InvalidStateError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// The executor can no longer run work.
class BrokenExecutor : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// A ThreadPoolExecutor whose worker initializer failed.
class BrokenThreadPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

// A ProcessPoolExecutor that can no longer run work: a worker initializer
// failed, or workers were terminated or killed by terminate_workers() /
// kill_workers(). (A worker that merely dies does not break the pool: see
// weft/futures/process_pool_executor.hpp.)
class BrokenProcessPool : public BrokenExecutor {
 public:
  using BrokenExecutor::BrokenExecutor;
};

}  // namespace weft::futures
