// weft/mp/remote_error.hpp — exceptions that cross a process boundary:
// a task that throws in a pool worker, a method that throws in a manager's
// server, re-thrown in the process that asked.
//
// Python pickles the exception object itself. weft sends its type's name
// and its what() text, and the receiving process rebuilds it:
//   * as the same C++ type when that type is registered: every exception
//     weft defines, the standard ones (std::runtime_error, logic_error,
//     invalid_argument, out_of_range, length_error, domain_error,
//     range_error, overflow_error, underflow_error, bad_alloc, exception),
//     and any user type given to register_exception<E>();
//   * otherwise as RemoteError, which keeps the sender's (demangled) type
//     name and message.
// A throw of something that is not a std::exception (throw 42) arrives as
// RemoteError naming the thrown type with an empty message.
//
// Thread-safety: every function here may be called from any thread;
// registering after other threads started rebuilding exceptions is safe.
#pragma once

#include <exception>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <typeinfo>
#include <utility>

#include "weft/codec/struct.hpp"
#include "weft/mp/errors.hpp"

namespace weft::mp {

// An exception from another process whose type this process has not
// registered. what() is "TypeName: message", as Python prints one.
class RemoteError : public ProcessError {
 public:
  RemoteError(std::string type_name, std::string message);
  // The sender's type, demangled ("app::ParseError").
  const std::string& type_name() const noexcept { return type_name_; }
  // The sender's what().
  const std::string& message() const noexcept { return message_; }

 private:
  std::string type_name_;
  std::string message_;
};

// A pool worker process ended while it held the task: killed by a signal
// (SIGKILL, SIGSEGV, the OOM killer) or exited. The pool replaced it; only
// the task(s) it held fail with this error. what() names the pid and the
// signal or exit code, e.g. "worker 4242 was killed by SIGKILL (signal 9)
// while running the task", or, when the task had returned but the worker
// died before its result arrived ("sending"), "... after running the task,
// while sending its result": its side effects happened, and the pool does
// not run it again.
class WorkerLostError : public ProcessError {
 public:
  WorkerLostError(pid_t pid, int exitcode, bool sending = false);
  pid_t pid() const noexcept { return pid_; }
  // As Process::exitcode(): minus the signal number when killed by one.
  int exitcode() const noexcept { return exitcode_; }
  // The signal that killed the worker, or 0 if it exited.
  int signal() const noexcept { return exitcode_ < 0 ? -exitcode_ : 0; }

 private:
  pid_t pid_;
  int exitcode_;
};

namespace detail {

// An exception as it travels: the registered (or demangled) type name and
// the what() text. Encoded as the array [type, message].
struct EncodedException {
  std::string type;
  std::string message;
  WEFT_CODEC(type, message)
};

using ExceptionFactory = std::exception_ptr (*)(const std::string& message);

void register_exception_factory(const std::type_info& type, std::string name, ExceptionFactory factory);

template <class E>
std::exception_ptr make_registered(const std::string& message) {
  return std::make_exception_ptr(E(message));
}

}  // namespace detail

// Lets exceptions of type E (constructible from a std::string message)
// cross process boundaries as themselves, under `name` (which must be
// unique and the same in every process; by default the demangled type
// name). Register in every process that throws or catches it — from a
// static initialiser, so that spawned children register too.
template <class E>
  requires std::is_constructible_v<E, std::string>
void register_exception(std::string name = {}) {
  detail::register_exception_factory(typeid(E), std::move(name), &detail::make_registered<E>);
}

// The exception being handled, ready to send. Call inside a catch block
// (or with a non-null exception_ptr). Never throws.
detail::EncodedException encode_exception(std::exception_ptr error) noexcept;

// The exception `encoded` describes, rebuilt as described at the top.
std::exception_ptr decode_exception(const detail::EncodedException& encoded) noexcept;

}  // namespace weft::mp
