// Hub::Impl — the hub's state, shared by hub.cpp and the gevent layer on it
// (greenlet tasks, Timeout, sleep), which reach past Hub's public face to
// interrupt, unschedule and register greenlets.
#pragma once

#include <any>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "greenlet_impl.hpp"
#include "weft/green/hub.hpp"
#include "weft/io/loop.hpp"
#include "weft/io/timer.hpp"

namespace weft::green {

struct Hub::Impl {
  explicit Impl(io::LoopOptions options);

  static Impl& of(Hub& hub) noexcept { return *hub.impl_; }
  // This thread's hub's state (making the hub on first use).
  static Impl& current() { return of(Hub::current()); }

  // The greenlet running on this thread.
  static detail::GreenletImpl& running() { return detail::GreenletImpl::running(); }

  // ---- parking and waking (Hub's, for a greenlet already at hand) --------
  std::any park(detail::GreenletImpl& self, const char* what);
  std::optional<std::any> park_until(detail::GreenletImpl& self, const char* what, Clock::time_point deadline);
  bool wake(detail::GreenletImpl& g, std::any value, std::exception_ptr exception) noexcept;
  // Takes a greenlet that was resumed behind the hub's back out of the
  // parked or queued state.
  void settle(detail::GreenletImpl& g) noexcept;

  // ---- run queue --------------------------------------------------------
  void enqueue(detail::GreenletImpl& g) noexcept;
  // Takes g out of the run queue (a task killed before it started).
  void unschedule(detail::GreenletImpl& g) noexcept;
  std::shared_ptr<detail::GreenletImpl> dequeue() noexcept;
  // Takes the head of the run queue (there must be one) to resume it now:
  // returns the queue's reference to it, its wake moved into `value` /
  // `exception`.
  std::shared_ptr<detail::GreenletImpl> take_head(std::any& value, std::exception_ptr& exception) noexcept;

  // ---- handing over without the hub -------------------------------------
  // Whether the hub, switched to now, would go straight to its run queue —
  // no turn of the loop due first, no shutdown, no callback of its own in
  // progress.
  bool queue_runs_next() const noexcept;
  // Whether it would then resume the head of the run queue before anything
  // else. Then a greenlet that would switch to the hub may switch to that
  // head itself: the same greenlet runs next, with the same wake, two
  // switches sooner.
  bool head_runs_next() const noexcept { return queue_head && queue_runs_next(); }
  // What a parking greenlet does instead of switching to the hub: that, or
  // the hand-over above (which, for a greenlet that has queued itself with
  // sleep(0) and is alone in the queue, is no switch at all). Returns and
  // throws as the switch does.
  std::any switch_away(detail::GreenletImpl& self);
  // For a spawned greenlet whose run is about to return: arranges the same
  // hand-over for its end (see GreenletImpl::exit_to) when the head's wake
  // is a value, and returns that value (run's result goes to the head).
  std::any hand_over_at_exit(detail::GreenletImpl& self) noexcept;
  // Whether `self` (running), queued behind nothing and parked, would be
  // resumed at once with nothing in between — nothing else queued, no turn
  // of the loop due, no exception waiting to be raised in it: then
  // sleep(0) has nothing to yield to and returns as it is.
  bool yield_returns_at_once(const detail::GreenletImpl& self) const noexcept;

  // ---- interruptions ----------------------------------------------------
  // Raises `exception` in g: at once if parked; at its next park if it is
  // suspended elsewhere or (unless `replace_wake`) already woken. With
  // `replace_wake`, a queued wake is turned into the exception (kill).
  // A parked greenlet (or the one in join()) is queued with it. `source`
  // tags the exception, queued or deferred, so that cancel_pending can
  // withdraw it.
  void interrupt(detail::GreenletImpl& g, std::exception_ptr exception, const void* source, bool replace_wake) noexcept;
  // Withdraws the exception of `source`: a deferred one is dropped; a queued
  // one gives way to the next deferred one, else to the wake that came
  // meanwhile, else g goes back to waiting as it was.
  static void cancel_pending(detail::GreenletImpl& g, const void* source) noexcept;

  // ---- the greenlets the hub knows (dump, LoopExit) ----------------------
  // Links or unlinks g as its task / state say.
  void track(detail::GreenletImpl& g) noexcept;
  void register_task(detail::GreenletImpl& g, detail::TaskBase& task) noexcept;
  void unregister_task(detail::GreenletImpl& g) noexcept;

  // ---- the hub greenlet -----------------------------------------------------
  void run();
  void run_batch();
  void run_loop(io::RunMode mode);
  void on_idle();
  bool nothing_can_wake() const noexcept;
  std::string blocked_report() const;
  void wake_idlers() noexcept;
  // Prints the exception being handled, caught from `where`, on stderr.
  void report(const char* where) const;
  void shut_down() noexcept;

  io::Loop loop;
  greenlet hub;
  detail::GreenletImpl* hub_impl = nullptr;
  std::shared_ptr<detail::GreenletImpl> main;

  std::shared_ptr<detail::GreenletImpl> queue_head;
  detail::GreenletImpl* queue_tail = nullptr;
  // The last greenlet of the batch the hub is running (null: none).
  detail::GreenletImpl* batch_last = nullptr;

  detail::GreenletImpl* known = nullptr;
  detail::GreenletImpl* known_tail = nullptr;
  std::size_t live_tasks = 0;

  // A greenlet in Hub::join(), resumed when the hub runs out of work.
  detail::GreenletImpl* joiner = nullptr;

  // Greenlets in idle(), woken when the hub is about to wait for IO.
  struct IdleWaiter {
    detail::GreenletImpl* greenlet;
    IdleWaiter* next;
  };
  IdleWaiter* idlers = nullptr;

  // While ExternalWaitGuards exist, a far timer keeps the loop alive.
  struct KeepAlive : io::Timer {
    explicit KeepAlive(Impl& hub) noexcept : io::Timer(&fire), hub(&hub) {}
    static void fire(io::Timer& timer) noexcept;
    Impl* hub;
  } keep_alive{*this};
  std::size_t external_waits = 0;

  // The loop runs in a mode that may wait for IO (a wake then stops it).
  bool loop_may_wait = false;
  // The hub is inside its loop (a callback of its own may have switched).
  bool in_loop = false;
  bool closing = false;
  // The greenlet running shut_down (the thread's, or the one in std::exit).
  detail::GreenletImpl* shutting_down = nullptr;
};

}  // namespace weft::green
