// Reporting exceptions thrown by future done-callbacks.
#include <cstdio>
#include <mutex>

#include "weft/detail/exception_text.hpp"
#include "weft/futures/future.hpp"

namespace weft::futures {
namespace {

struct HandlerSlot {
  std::mutex mutex;
  CallbackExceptionHandler handler;
};

HandlerSlot& handler_slot() {
  static HandlerSlot* slot = new HandlerSlot;
  return *slot;
}

void print_callback_exception(std::exception_ptr error) {
  std::fprintf(stderr, "weft.futures: exception calling callback for future: %s\n",
               weft::detail::exception_text(error).c_str());
  std::fflush(stderr);
}

}  // namespace

CallbackExceptionHandler set_callback_exception_handler(CallbackExceptionHandler handler) {
  std::lock_guard held(handler_slot().mutex);
  return std::exchange(handler_slot().handler, std::move(handler));
}

namespace detail {

void report_callback_exception(std::exception_ptr error) noexcept {
  CallbackExceptionHandler handler;
  {
    std::lock_guard held(handler_slot().mutex);
    handler = handler_slot().handler;
  }
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
