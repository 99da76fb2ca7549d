// weft/errors.hpp — the exceptions weft raises, named after Python's.
//
// Python's builtin exception names map onto C++ types that derive from the
// closest standard exception, so code can catch either the Python name or the
// std:: family. OS failures are std::system_error; cancellation is its own
// type (declared by the modules that cancel).
#pragma once

#include <stdexcept>

namespace weft {

// A call made in the wrong state: releasing an unheld lock, starting a thread
// twice, joining the current thread. Python's RuntimeError.
class RuntimeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An argument with the right type but a wrong value: a negative timeout,
// task_done() called too often, a bounded semaphore released too often.
// Python's ValueError.
class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// An operation applied to a value of the wrong kind: sending a value into a
// generator that has not started yet, throwing an empty exception_ptr into
// one. Python's TypeError.
class TypeError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// A lookup found no entry for what it was given: a selector asked about a
// file that is not registered, or to register one that already is. Python's
// KeyError, a LookupError, hence std::out_of_range.
class KeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

// A sequence index out of range: a managed list's l[10] with five items.
// Python's IndexError, a LookupError, hence std::out_of_range.
class IndexError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};

// An object has no attribute or method of that name: a manager proxy
// calling a method its server does not expose, a Namespace read of a name
// never set. Python's AttributeError.
class AttributeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A blocking operation ran past its timeout where Python raises rather than
// returns. Python's TimeoutError.
class TimeoutError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A read found the end of the stream: the peer closed a Connection or a pipe
// at every one of its ends. Python's EOFError.
class EOFError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The operation was cancelled. Deliberately not a std::runtime_error (as
// Python's CancelledError is not an Exception), so that `catch (const
// std::runtime_error&)` does not swallow a cancellation by accident.
class CancelledError : public std::exception {
 public:
  const char* what() const noexcept override { return "cancelled"; }
};

}  // namespace weft
