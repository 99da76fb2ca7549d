// src/green/signal.cpp — green::SignalHandler: io::SignalHandlers on the
// hub's loop, spawning a greenlet per signal.
#include "weft/green/signal.hpp"

#include <memory>
#include <utility>

#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"

namespace weft::green {

SignalHandler::SignalHandler(int signum, std::function<void()> handler)
    : handlers_(std::make_unique<io::SignalHandlers>(Hub::current().loop())), signum_(signum) {
  handlers_->add(signum, [handler = std::move(handler)] { spawn(handler); });
}

}  // namespace weft::green
