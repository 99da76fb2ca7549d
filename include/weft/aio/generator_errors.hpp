// weft/aio/generator_errors.hpp — the exceptions of generators:
// StopIteration, which ends an iteration and carries the generator's return
// value, StopAsyncIteration, which ends an asynchronous one, and
// GeneratorExit, which close() and aclose() raise inside a generator.
#pragma once

#include <exception>
#include <memory>
#include <utility>

#include "weft/errors.hpp"

namespace weft::aio {

namespace detail {
template <class T>
class StopIterationWithValue;
}

// The generator has no more values: thrown by next(), send() and throw_()
// when the generator's body ends. The call that ran the body to its end
// gets the body's return value (`co_return value;`, Python's
// StopIteration.value) in it; a generator that returns nothing, or one asked
// again after it ended, throws a StopIteration without a value.
//
// A StopIteration that escapes a generator's own body is replaced by
// RuntimeError("generator raised StopIteration"), as Python 3.7 does (PEP
// 479), so that it cannot end the caller's iteration by accident.
class StopIteration : public std::exception {
 public:
  StopIteration() = default;
  const char* what() const noexcept override { return "StopIteration"; }

  // Whether the generator returned a value.
  bool has_value() const noexcept { return has_value_; }

  // The generator's return value. Throws TypeError if the generator
  // returned none or a value of another type than T. A handler that caught
  // the exception by non-const reference may move the value out.
  template <class T>
  T& value();
  template <class T>
  const T& value() const {
    return const_cast<StopIteration*>(this)->value<T>();
  }

 protected:
  explicit StopIteration(bool has_value) noexcept : has_value_(has_value) {}

 private:
  bool has_value_ = false;
};

// The asynchronous generator has no more values: thrown by the awaited
// anext() and asend() of an AsyncGenerator whose body ended, and by an
// athrow() that ends it (async generators return no value, PEP 525). Like
// StopIteration, one escaping an asynchronous generator's own body becomes
// RuntimeError("async generator raised StopAsyncIteration").
class StopAsyncIteration : public std::exception {
 public:
  const char* what() const noexcept override { return "StopAsyncIteration"; }
};

// Raised inside a suspended generator at its co_yield by close() (by
// aclose() in an asynchronous one), so that it can clean up (RAII, or catch
// it and co_return). Like Python's, it is not an error: it derives from
// std::exception only, so `catch (const std::runtime_error&)` does not
// swallow it. A generator that catches it must not yield again; close()
// (aclose()) then throws RuntimeError.
class GeneratorExit : public std::exception {
 public:
  const char* what() const noexcept override { return "GeneratorExit"; }
};

namespace detail {

// The StopIteration of a generator that returned a T. The value is shared
// because exceptions are copyable and T need not be.
template <class T>
class StopIterationWithValue final : public StopIteration {
 public:
  explicit StopIterationWithValue(T value)
      : StopIteration(true), value_(std::make_shared<T>(std::move(value))) {}
  T& value() const noexcept { return *value_; }

 private:
  std::shared_ptr<T> value_;
};

}  // namespace detail

template <class T>
T& StopIteration::value() {
  if (auto* with_value = dynamic_cast<detail::StopIterationWithValue<T>*>(this)) return with_value->value();
  throw TypeError(has_value_ ? "StopIteration.value has another type than the one asked for"
                             : "StopIteration carries no value");
}

}  // namespace weft::aio
