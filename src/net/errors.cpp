// weft::net errors: Python's errno-to-class choice and message format.
#include "weft/net/errors.hpp"

#include <netdb.h>

#include <cerrno>
#include <string>

namespace weft::net {

namespace {

std::string python_message(int err, const std::string& strerror, std::string_view what) {
  std::string message = "[Errno " + std::to_string(err) + "] " + strerror;
  if (!what.empty()) {
    message += ": ";
    message += what;
  }
  return message;
}

class GaiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int eai) const override { return ::gai_strerror(eai); }
};

}  // namespace

OSError::OSError(int err, std::string_view what)
    : OSError(std::error_code(err, std::generic_category()),
              python_message(err, std::generic_category().message(err), what)) {}

OSError::OSError(std::error_code code, const std::string& message)
    : std::system_error(code, message), message_(message) {}

TimeoutError::TimeoutError()
    : OSError(std::error_code(ETIMEDOUT, std::generic_category()), "timed out") {}

const std::error_category& gai_category() noexcept {
  static const GaiCategory category;
  return category;
}

gaierror::gaierror(int eai, std::string_view what)
    : OSError(std::error_code(eai, gai_category()),
              python_message(eai, gai_category().message(eai), what)) {}

void raise_os_error(int err, std::string_view what) {
  switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
    case EINPROGRESS:
    case EALREADY:
      throw BlockingIOError(err, what);
    case EPIPE:
    case ESHUTDOWN:
      throw BrokenPipeError(err, what);
    case ECONNABORTED:
      throw ConnectionAbortedError(err, what);
    case ECONNREFUSED:
      throw ConnectionRefusedError(err, what);
    case ECONNRESET:
      throw ConnectionResetError(err, what);
    case EINTR:
      throw InterruptedError(err, what);
    case ENOENT:
      throw FileNotFoundError(err, what);
    case EACCES:
    case EPERM:
      throw PermissionError(err, what);
    case EEXIST:
      throw FileExistsError(err, what);
    case ETIMEDOUT:
      throw TimeoutError(err, what);
    default:
      throw OSError(err, what);
  }
}

}  // namespace weft::net
