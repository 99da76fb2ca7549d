// detail::HubLink — the hub's own fields in every greenlet: its place in the
// run queue, what it is parked on, the wake it is queued with, and its place
// in the list of greenlets the hub knows (dump(), LoopExit). Only the hub
// (hub.cpp, greenlet_task.cpp, timeout.cpp) touches them, on the greenlet's
// thread.
#pragma once

#include <any>
#include <cstdint>
#include <exception>
#include <memory>

namespace weft::green::detail {

class GreenletImpl;
class TaskBase;

// An interruption (a Timeout expiring, a kill) that came while its greenlet
// was not parked; `source` says who sent it.
struct PendingInterrupt {
  std::exception_ptr exception;
  const void* source = nullptr;
  std::unique_ptr<PendingInterrupt> next;
};

struct HubLink {
  enum class State : std::uint8_t {
    idle,    // running, or suspended outside the hub's knowledge
    parked,  // waiting in Hub::park for a wake
    queued,  // in the run queue, to be switched to with value / exception
  };

  // The run queue, a doubly linked list that owns its members.
  std::shared_ptr<GreenletImpl> next;
  GreenletImpl* prev = nullptr;
  // The hub's list of the greenlets it knows: tasks while alive, and every
  // parked or queued greenlet.
  GreenletImpl* known_prev = nullptr;
  GreenletImpl* known_next = nullptr;
  // What a parked greenlet waits on (a string literal).
  const char* waiting = nullptr;
  // The wake a queued greenlet is resumed with: a value, or an exception.
  std::any value;
  std::exception_ptr exception;
  // The Timeout whose expiry `exception` is, while it may still cancel it
  // (null: a wake, or a kill). Until the greenlet runs, the first wake that
  // comes is kept (`woken`: `value`, or `woken_exception`) for that case.
  const void* interrupt_source = nullptr;
  std::exception_ptr woken_exception;
  bool woken = false;
  // Raised at its next parks, oldest first: the interruptions that came
  // while it was not parked and whose senders have not withdrawn them.
  std::unique_ptr<PendingInterrupt> pending;
  // The gevent task running in it, if it is a spawned greenlet.
  TaskBase* task = nullptr;
  State state = State::idle;
  bool known = false;
  // GreenletExit was raised in it while its hub shut down: it is not raised
  // again there, and a park after it leaves the greenlet suspended for good.
  bool exit_raised = false;

  void clear_wake() noexcept {
    value.reset();
    exception = nullptr;
    interrupt_source = nullptr;
    woken_exception = nullptr;
    woken = false;
  }
};

}  // namespace weft::green::detail
