// weft/green/detail/wait_list.hpp — the FIFO of parked greenlets under every
// gevent synchronisation object (Event, AsyncResult, the queues and
// Channel, the semaphores and locks, Group and Pool).
//
// A greenlet that must wait makes a Waiter on its own stack: the Waiter
// links a node into the object's WaitList, parks on the hub, and unlinks the
// node when the wait ends — notified, timed out, or by an exception raised
// at the park point (Timeout, GreenletExit, LoopExit). Nothing is allocated.
//
// A waker calls notify_one()/notify_all(): the first waiter is unlinked,
// handed a `notice` (a small code whose meaning the object chooses: "you
// have the permit", "the queue was shut down") and woken with Hub::wake.
// The notice is recorded in the waiter's node, so it is not lost when the
// waiter's park had already ended another way (its timer fired, or Timeout
// was thrown in) before it ran again: the waiter sees it when it resumes.
// An object that hands something over with a notice (a permit, a reserved
// item) uses wait_for_notice(), which gives the thing back if an exception
// ends the wait after the notice arrived, so nothing is ever leaked.
// An object that hands items straight from one greenlet to another (a
// Channel) gives each Waiter a `payload`, a pointer to the waiter's side of
// the exchange, and reaches the longest waiter's through front_payload().
// A Link is gevent's rawlink: a place in the list that, when notified,
// calls a function instead of waking a greenlet (what green::wait and
// green::iwait wait on several objects with). Link only into lists whose
// notice hands nothing over (Event, AsyncResult).
//
// Thread-safety: a WaitList belongs to one thread's hub; its members are
// called only from greenlets of that thread (or its hub).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "weft/detail/deadline.hpp"
#include "weft/green/hub.hpp"

namespace weft::green::detail {

using Notice = std::uint8_t;
inline constexpr Notice kNoNotice = 0;  // not notified (yet)
inline constexpr Notice kNotified = 1;  // the default notice

using Deadline = weft::detail::Deadline;

// The deadline of a gevent-style timeout: none waits forever; zero or a
// negative one does not wait at all.
inline Deadline deadline_for(const std::optional<std::chrono::duration<double>>& timeout) {
  if (!timeout) return std::nullopt;
  return weft::detail::deadline_after_clamped(*timeout);
}

struct WaitNode {
  // Set for a Link: called with `payload` in place of waking `greenlet`.
  void (*notified)(void* payload) noexcept = nullptr;
  GreenletImpl* greenlet = nullptr;
  Hub* hub = nullptr;
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
  void* payload = nullptr;
  Notice notice = kNoNotice;
  bool linked = false;
};

class WaitList {
 public:
  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }
  // The payload of the greenlet notify_one() would wake; null if nobody
  // waits (or it waits without one).
  void* front_payload() const noexcept { return head_ != nullptr ? head_->payload : nullptr; }

  // Unlinks the longest-waiting greenlet, gives it `notice` and wakes it.
  // Returns false if nobody waits. Never blocks or switches.
  bool notify_one(Notice notice = kNotified) noexcept;
  // The same for every waiter, in FIFO order; returns how many there were.
  std::size_t notify_all(Notice notice = kNotified) noexcept;

 private:
  friend class Waiter;
  friend class Link;
  void push_back(WaitNode& node) noexcept;
  void remove(WaitNode& node) noexcept;

  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
  std::size_t size_ = 0;
};

// The calling greenlet's place in a WaitList for one wait. Lives on its
// stack; linked on construction, unlinked on destruction if still linked.
class Waiter {
 public:
  // `payload` is what front_payload() shows of this waiter while it is
  // linked. Throws std::system_error if this thread's hub cannot be made.
  explicit Waiter(WaitList& list, void* payload = nullptr);
  ~Waiter();
  Waiter(const Waiter&) = delete;
  Waiter& operator=(const Waiter&) = delete;

  // Parks until notified or until `deadline`; returns the notice, or
  // kNoNotice if the deadline came first (an expired deadline does not
  // park at all). `what` (a string literal) names the wait in LoopExit and
  // dump(). Rethrows what is thrown into the greenlet while it is parked;
  // throws green::error from the hub greenlet.
  Notice wait(const char* what, const Deadline& deadline);

  Notice notice() const noexcept { return node_.notice; }

 private:
  WaitList& list_;
  WaitNode node_;
};

// A rawlink: linked into a WaitList by link(), it is unlinked by the first
// notify that reaches it, which then calls notified(context) — never
// switching; the function must not throw or block. Unlinked on destruction
// if still linked. Allocates nothing.
class Link {
 public:
  Link() = default;
  ~Link() { unlink(); }
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Links it at the back of `list` (unlinking it from where it was).
  void link(WaitList& list, void (*notified)(void* context) noexcept, void* context) noexcept {
    unlink();
    list_ = &list;
    node_.notified = notified;
    node_.payload = context;
    list.push_back(node_);
  }
  void unlink() noexcept {
    if (node_.linked) list_->remove(node_);
  }
  bool linked() const noexcept { return node_.linked; }

 private:
  WaitList* list_ = nullptr;
  WaitNode node_;
};

// Waits on `list` as Waiter::wait does. If an exception ends the wait after
// a notice arrived, give_back(notice) runs first (it must not throw), so
// that what the notice handed over passes on to someone else. `payload` as
// for Waiter.
template <class GiveBack>
Notice wait_for_notice(WaitList& list, const char* what, const Deadline& deadline, GiveBack&& give_back,
                       void* payload = nullptr) {
  Waiter waiter(list, payload);
  try {
    return waiter.wait(what, deadline);
  } catch (...) {
    if (waiter.notice() != kNoNotice) give_back(waiter.notice());
    throw;
  }
}

}  // namespace weft::green::detail
