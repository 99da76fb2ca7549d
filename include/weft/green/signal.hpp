// weft/green/signal.hpp — gevent.signal_handler: a Unix signal's handler,
// run in a new greenlet of the hub's thread each time the signal arrives.
//
//   auto on_term = green::signal_handler(SIGTERM, [&] { stopping.set(); });
//
// Built on io::SignalHandlers (weft/io/signals.hpp) on the hub's loop: the
// sigaction handler only wakes the loop, and the hub then spawns a greenlet
// for the handler, outside signal context — it may allocate, lock, block
// cooperatively. What the handler throws ends its greenlet, reported as
// any spawned greenlet's failure. Several handlers of the same signal (on
// one hub or on the hubs of several threads) all run, as with gevent's
// libev watchers.
//
// Differences from gevent:
//   * the greenlet is spawned (it runs in the hub's next run phase), where
//     gevent switches to it from the watcher's callback;
//   * gevent's watcher does not keep the loop alive (ref=False); a weft
//     handler does: while one is registered, a greenlet waiting for what
//     the handler will do is no LoopExit, and Hub::join() waits — cancel()
//     the handler to end that;
//   * the handler is RAII: destroying the SignalHandler cancels it, where
//     gevent's runs until cancel();
//   * when the last handler of a signal in the process goes, the signal's
//     disposition goes back to what it was before weft's first handler, and
//     a child of fork() inherits no handler (see weft/io/signals.hpp).
//
// Thread-safety: a SignalHandler belongs to the thread whose hub it was made
// on; create, cancel and destroy it there, before that thread ends.
#pragma once

#include <functional>
#include <memory>
#include <utility>

#include "weft/io/signals.hpp"

namespace weft::green {

class SignalHandler {
 public:
  // Registers `handler` for `signum` on this thread's hub. Throws ValueError
  // for an invalid signal number, RuntimeError("sig N cannot be caught")
  // for SIGKILL and SIGSTOP, RuntimeError when 128 loops' worth of signal
  // handlers are registered already, std::system_error if no pipe can be
  // made. Never blocks.
  SignalHandler(int signum, std::function<void()> handler);
  // cancel().
  ~SignalHandler() { cancel(); }
  SignalHandler(SignalHandler&&) noexcept = default;
  // Cancels this handler, then takes over `other`'s.
  SignalHandler& operator=(SignalHandler&&) noexcept = default;

  // Stops running the handler; a greenlet already spawned for a signal
  // runs on. Idempotent. Never blocks, never throws.
  void cancel() noexcept { handlers_.reset(); }
  bool cancelled() const noexcept { return handlers_ == nullptr; }
  int signum() const noexcept { return signum_; }

 private:
  std::unique_ptr<io::SignalHandlers> handlers_;
  int signum_;
};

// gevent.signal_handler(signalnum, handler, *args): runs handler(args...)
// in a new greenlet each time `signum` arrives, until the returned object
// is cancelled or destroyed. Throws as SignalHandler's constructor. Never
// blocks.
template <class F, class... Args>
[[nodiscard]] SignalHandler signal_handler(int signum, F&& handler, Args&&... args) {
  return SignalHandler(signum, std::bind_front(std::forward<F>(handler), std::forward<Args>(args)...));
}

}  // namespace weft::green
