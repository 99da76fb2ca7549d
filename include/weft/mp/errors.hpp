// weft/mp/errors.hpp — the exceptions of Python's multiprocessing.
#pragma once

#include <string>

#include "weft/errors.hpp"

namespace weft::mp {

// The base of multiprocessing's own errors. Python's ProcessError.
class ProcessError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A Connection's peer failed the HMAC challenge, or rejected ours: the
// authentication keys differ, or the peer does not speak the protocol.
class AuthenticationError : public ProcessError {
 public:
  using ProcessError::ProcessError;
};

// recv_bytes_into() was given a buffer smaller than the message. The whole
// message is kept in the exception, as Python keeps it in args[0].
class BufferTooShort : public ProcessError {
 public:
  explicit BufferTooShort(std::string message)
      : ProcessError("message larger than the buffer"), message_(std::move(message)) {}
  const std::string& message() const noexcept { return message_; }

 private:
  std::string message_;
};

}  // namespace weft::mp
