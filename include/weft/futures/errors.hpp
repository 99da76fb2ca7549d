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

}  // namespace weft::futures
