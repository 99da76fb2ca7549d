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
  static detail::GreenletImpl& running() { return *greenlet::getcurrent().get(); }

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

  // ---- interruptions ----------------------------------------------------
  // Raises `exception` in g: at once if parked; at its next park if it is
  // suspended elsewhere or (unless `replace_wake`) already woken. With
  // `replace_wake`, a queued wake is turned into the exception (kill).
  // `source` tags a deferred exception so that cancel_pending can drop it.
  void interrupt(detail::GreenletImpl& g, std::exception_ptr exception, const void* source, bool replace_wake) noexcept;
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
  bool closing = false;
};

}  // namespace weft::green
