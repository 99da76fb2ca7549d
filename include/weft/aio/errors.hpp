// weft/aio/errors.hpp — the exceptions of Python's asyncio.
//
// asyncio raises Python's builtin exceptions where Python does (TimeoutError,
// RuntimeError, ValueError: see weft/errors.hpp). The ones below are
// asyncio's own. The queue, barrier and stream errors live beside the types
// that raise them.
#pragma once

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "weft/errors.hpp"

namespace weft::aio {

// The task was cancelled: thrown at the suspension point where the task
// waited when Task.cancel(msg) reached it, and by result() of a cancelled
// task. Carries cancel()'s message (what() is "cancelled" when it had none).
// Derives from weft::CancelledError, not from std::runtime_error, so that
// `catch (const std::runtime_error&)` never swallows a cancellation; catch
// it only to clean up, then rethrow (or call uncancel()).
class CancelledError : public weft::CancelledError {
 public:
  CancelledError() = default;
  explicit CancelledError(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.empty() ? "cancelled" : message_.c_str(); }
  // cancel()'s message, empty if it gave none.
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

// result() or exception() of a task that is not done; set_result() of a
// done future. asyncio.InvalidStateError.
class InvalidStateError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// Several exceptions raised together: what a TaskGroup throws when tasks
// failed (Python's ExceptionGroup). exceptions() holds them in the order
// they happened.
class ExceptionGroup : public std::exception {
 public:
  ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions);
  const char* what() const noexcept override { return text_.c_str(); }
  const std::string& message() const noexcept { return message_; }
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return exceptions_; }

 private:
  std::string message_;
  std::vector<std::exception_ptr> exceptions_;
  std::string text_;
};

// wait_for() and timeout() raise the builtin TimeoutError, as Python 3.11
// does.
using TimeoutError = weft::TimeoutError;

}  // namespace weft::aio
