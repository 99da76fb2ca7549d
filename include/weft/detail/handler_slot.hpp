// weft/detail/handler_slot.hpp — a process-wide, replaceable handler (the
// excepthook, the futures callback-exception handler): set from any thread,
// copied out under a lock and called outside it.
#pragma once

#include <mutex>
#include <utility>

namespace weft::detail {

template <class Handler>
class HandlerSlot {
 public:
  // Installs `handler`; returns the previous one.
  Handler exchange(Handler handler) {
    std::lock_guard held(mutex_);
    return std::exchange(handler_, std::move(handler));
  }
  Handler get() const {
    std::lock_guard held(mutex_);
    return handler_;
  }

 private:
  mutable std::mutex mutex_;
  Handler handler_;
};

}  // namespace weft::detail
