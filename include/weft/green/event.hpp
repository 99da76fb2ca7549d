// weft/green/event.hpp — weft::green::Event, gevent.event.Event: a flag that
// greenlets wait on.
//
// wait() parks the calling greenlet until set() raises the flag (or returns
// at once if it is raised); clear() lowers it again. Any number of
// greenlets may wait; set() wakes them all, in the order they began to
// wait. A greenlet woken by set() returns true even if clear() ran before
// it resumed, as in Python.
//
// Waiting parks the greenlet on its hub; from the main greenlet it runs the
// hub until the wait ends. If nothing can ever set the flag, the hub raises
// LoopExit (in the main greenlet) naming "Event.wait".
//
// Thread-safety: an Event belongs to the hub of one thread; use it only
// from greenlets of that thread. Not copyable or movable; destroying one
// that greenlets wait on is undefined behaviour.
#pragma once

#include <chrono>
#include <optional>

#include "weft/green/detail/wait_list.hpp"

namespace weft::green {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return flag_; }
  // Python's Event.ready(), the same as is_set().
  bool ready() const noexcept { return flag_; }

  // Raises the flag and wakes every waiter. Never blocks or switches.
  void set() noexcept;
  // Lowers the flag. Never blocks.
  void clear() noexcept { flag_ = false; }

  // Parks until the flag is raised; returns true. With a timeout, waits at
  // most that long (zero or less: not at all) and returns false if the flag
  // stayed down. Rethrows what is thrown into the greenlet meanwhile
  // (Timeout, GreenletExit); throws LoopExit as described above.
  bool wait(std::optional<std::chrono::duration<double>> timeout = std::nullopt);

  // gevent's rawlink, for weft's own layers (green::wait, green::iwait):
  // the next set() unlinks `link` and calls notified(context). Never blocks.
  void rawlink(detail::Link& link, void (*notified)(void* context) noexcept, void* context) noexcept {
    link.link(waiters_, notified, context);
  }

 private:
  detail::WaitList waiters_;
  bool flag_ = false;
};

}  // namespace weft::green
