// weft/aio/outcome.hpp — Outcome<T>: a task's value or its exception, what
// gather(return_exceptions, ...) collects (Python puts the exception object
// in the result list; C++ keeps types apart).
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/aio/none.hpp"

namespace weft::aio {

// What a task whose result is void yields in gather's tuples and vectors:
// Python's None.
template <class T>
using ResultOf = std::conditional_t<std::is_void_v<T>, NoneType, T>;

template <class T>
class Outcome {
 public:
  explicit Outcome(std::exception_ptr exception) noexcept : exception_(std::move(exception)) {}
  explicit Outcome(ResultOf<T> value) : value_(std::move(value)) {}

  bool has_value() const noexcept { return value_.has_value(); }
  // The value; throws the exception (CancelledError for a cancelled task).
  ResultOf<T>& value() {
    if (exception_) std::rethrow_exception(exception_);
    return *value_;
  }
  // nullptr if the task returned a value.
  const std::exception_ptr& exception() const noexcept { return exception_; }

 private:
  std::optional<ResultOf<T>> value_;
  std::exception_ptr exception_;
};

}  // namespace weft::aio
