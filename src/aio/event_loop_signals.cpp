// src/aio/event_loop_signals.cpp — EventLoop::add_signal_handler and
// remove_signal_handler, on io::SignalHandlers.
#include <memory>
#include <utility>

#include "weft/aio/event_loop.hpp"
#include "weft/io/signals.hpp"

namespace weft::aio {

void EventLoop::add_signal_handler(int sig, Callback callback) {
  io::check_signal(sig);
  check_open();
  if (!signal_handlers_) signal_handlers_ = std::make_unique<io::SignalHandlers>(io_);
  signal_handlers_->add(sig, std::move(callback));
}

bool EventLoop::remove_signal_handler(int sig) {
  io::check_signal(sig);
  return signal_handlers_ && signal_handlers_->remove(sig);
}

}  // namespace weft::aio
