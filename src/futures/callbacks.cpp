// Reporting exceptions thrown by future done-callbacks.
#include <cstdio>

#include "weft/detail/exception_text.hpp"
#include "weft/detail/handler_slot.hpp"
#include "weft/futures/future.hpp"

namespace weft::futures {
namespace {

// Never destroyed: futures may complete while static objects are torn down.
weft::detail::HandlerSlot<CallbackExceptionHandler>& handler_slot() {
  static auto* slot = new weft::detail::HandlerSlot<CallbackExceptionHandler>;
  return *slot;
}

void print_callback_exception(std::exception_ptr error) {
  std::fprintf(stderr, "weft.futures: exception calling callback for future: %s\n",
               weft::detail::exception_text(error).c_str());
  std::fflush(stderr);
}

}  // namespace

CallbackExceptionHandler set_callback_exception_handler(CallbackExceptionHandler handler) {
  return handler_slot().exchange(std::move(handler));
}

namespace detail {

void report_callback_exception(std::exception_ptr error) noexcept {
  const CallbackExceptionHandler handler = handler_slot().get();
  try {
    if (handler) {
      handler(error);
    } else {
      print_callback_exception(error);
    }
  } catch (...) {
    std::fputs("weft.futures: the callback exception handler threw\n", stderr);
  }
}

}  // namespace detail
}  // namespace weft::futures
