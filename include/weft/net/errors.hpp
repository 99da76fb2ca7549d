// weft/net/errors.hpp — Python's OSError family, as weft::net raises it.
//
// Every OS failure of a socket call is an OSError, a std::system_error whose
// code() holds the errno value in std::generic_category(), so both
// `catch (const weft::net::ConnectionRefusedError&)` and
// `e.code() == std::errc::connection_refused` work. The subclasses are the
// ones PEP 3151 gives Python, chosen by errno exactly as Python chooses them;
// raise_os_error() makes that choice. what() reads as Python prints the
// error: "[Errno 111] Connection refused: connect".
//
// Name-resolution failures are gaierror, whose code() holds the EAI_ value in
// gai_category().
//
// net::TimeoutError is Python's socket.timeout (an alias of the builtin
// TimeoutError since 3.10): an OSError, not a weft::TimeoutError, so that
// std::runtime_error stays an unambiguous base.
//
// Thread-safety: the exception types are immutable values; copying one never
// throws. raise_os_error may be called from any thread.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace weft::net {

class OSError : public std::system_error {
 public:
  // what() is "[Errno N] <strerror(N)>: <what>", or without ": <what>" when
  // `what` is empty. code() is {err, std::generic_category()}.
  OSError(int err, std::string_view what);
  // what() is `message` verbatim.
  OSError(std::error_code code, const std::string& message);

  const char* what() const noexcept override { return message_.what(); }

 private:
  std::runtime_error message_;
};

// The operation would block on a non-blocking socket: EAGAIN, EWOULDBLOCK,
// EINPROGRESS, EALREADY.
class BlockingIOError : public OSError {
 public:
  using OSError::OSError;
};

// The base of the connection-related errors.
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};

// Writing to a connection whose other end is gone: EPIPE, ESHUTDOWN.
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// ECONNABORTED.
class ConnectionAbortedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// ECONNREFUSED: nothing listens at the address.
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// ECONNRESET: the peer reset the connection.
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// EINTR: a call interrupted by a signal (weft retries those itself; this is
// raised only where retrying is impossible).
class InterruptedError : public OSError {
 public:
  using OSError::OSError;
};

// ENOENT.
class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};

// EACCES, EPERM.
class PermissionError : public OSError {
 public:
  using OSError::OSError;
};

// EEXIST.
class FileExistsError : public OSError {
 public:
  using OSError::OSError;
};

// A socket operation ran past the socket's timeout (what() is "timed out",
// code() is ETIMEDOUT), or the OS reported ETIMEDOUT itself.
class TimeoutError : public OSError {
 public:
  TimeoutError();
  using OSError::OSError;
};

// The category of getaddrinfo()'s EAI_ codes; message() is gai_strerror's.
const std::error_category& gai_category() noexcept;

// getaddrinfo() failed. code() is {eai, gai_category()}; what() is
// "[Errno <eai>] <gai_strerror(eai)>: <what>", as Python prints it (EAI_
// codes are negative on Linux).
class gaierror : public OSError {
 public:
  gaierror(int eai, std::string_view what);
};

// Throws the most specific class above for errno `err` (OSError when none
// fits), with what() "[Errno N] <strerror(N)>: <what>". Never returns.
[[noreturn]] void raise_os_error(int err, std::string_view what);

}  // namespace weft::net
