// weft/green/hub.hpp — weft::green::Hub, gevent's hub: the greenlet of each
// thread that runs the event loop and resumes the greenlets waiting on it.
//
// A greenlet that must wait (sleep, a socket not ready, an empty Queue)
// parks: it records what it waits on and switches to the hub. The hub runs,
// in turn,
//   1. its run queue — greenlets woken since it last ran, in FIFO order, each
//      resumed with the value (or exception) it was woken with;
//   2. one iteration of its io::Loop (timers, callbacks, IO), waiting for IO
//      only when the run queue is empty.
// Waking is wake()/wake_throw(): it queues a parked greenlet (allocating
// nothing) and never switches, so the waker keeps running until it parks in
// turn. The first wake of a park wins; later ones return false. A Timeout's
// expiry is no wake: until the greenlet runs, the first wake still wins,
// raised over by the Timeout unless the Timeout is cancelled first (as a
// kill() raises over a wake).
//
// When switching to the hub would only make it resume the head of its run
// queue — no turn of the loop due first (it has no timers, IO or callbacks
// pending, or the current batch is not finished) — a greenlet that parks,
// or a spawned greenlet that ends, switches to that head itself: the same
// greenlet runs next with the same wake, two switches sooner. A sleep(0)
// with nothing else ready therefore returns without switching at all.
//
// When the run queue is empty and the loop has nothing left that could wake
// anyone (no timers, IO, callbacks or cross-thread wake-ups expected), the
// parked greenlets can never run again: the hub raises LoopExit in the
// thread's main greenlet, naming what each parked greenlet waits on.
//
// One hub per thread, made on first use with the loop options of
// set_default_loop_options(); hubs of different threads run side by side.
//
// Thread exit (and std::exit, on the thread that calls it): the hub raises
// GreenletExit once in each greenlet it still holds, so that their stacks
// unwind, and drops those never started. A greenlet that parks again after
// that (it caught GreenletExit and waits on), or that parks while an
// exception unwinds it (a destructor that waits), is left suspended for
// good: leaked, and named on stderr. The main greenlet is never unwound:
// std::exit() called in a spawned greenlet ends the process with its
// status while main stays where it was.
//
// fork(): the child's thread gets a hub and loop of its own on its first
// green call, as gevent's hub.loop.reinit() gives it. The hub it inherited
// is left behind untouched (leaked), since its loop's kernel objects — the
// epoll instance, the io_uring rings — are the parent's too; the greenlets
// that hub knew (parked, scheduled, spawned) are dead in the child and never
// run there, and their stacks are not unwound. The greenlet that forked runs
// on. If that is a spawned greenlet, let it end the child (_exit, as the
// multiprocessing fork start method does): when it returns, the main
// greenlet's wait on the parent's hub returns early.
//
// Thread-safety: a Hub belongs to its thread; only wake_threadsafe() may be
// called from other threads.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "weft/green/greenlet.hpp"
#include "weft/io/loop.hpp"

namespace weft::green {

// Every greenlet of this thread is parked and nothing can wake any of them.
// what() names the parked greenlets and what they wait on. gevent's LoopExit.
class LoopExit : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One line of dump(): a live greenlet of the calling thread.
struct GreenletInfo {
  std::string name;
  std::string state;    // "running", "parked", "scheduled", "suspended" (switched away from by hand), "not started"
  std::string waiting;  // what a parked greenlet waits on, else empty
};

class Hub {
 public:
  using Clock = io::Loop::Clock;

  // This thread's hub, made on first use. Throws std::system_error if no
  // loop backend can be set up.
  static Hub& current();
  // This thread's hub if it has one.
  static Hub* current_if_any() noexcept;
  // Loop options for hubs made from now on (any thread).
  static void set_default_loop_options(io::LoopOptions options);

  io::Loop& loop() noexcept;
  // The hub's own greenlet (its parent is the thread's main greenlet).
  greenlet hub_greenlet() const;

  // ---- parking ------------------------------------------------------------
  // Parks the current greenlet until it is woken: switches to the hub.
  // `what` says what it waits on (a string literal: kept, not copied).
  // Returns the value of the wake; throws the exception of wake_throw().
  // Throws green::error when called from the hub greenlet itself.
  std::any park(const char* what);
  // The same, but at `deadline` the greenlet wakes itself (through a timer
  // of its own) and std::nullopt is returned.
  std::optional<std::any> park_until(const char* what, Clock::time_point deadline);

  // Queues the parked greenlet `g` (of this thread) to resume with `value`
  // / by raising `exception`. Never blocks or switches; allocates nothing.
  // Returns false, doing nothing, if g is not parked or is already queued
  // (with a wake, or a kill; see above for a Timeout's expiry).
  bool wake(detail::GreenletImpl& g, std::any value = {}) noexcept;
  bool wake_throw(detail::GreenletImpl& g, std::exception_ptr exception) noexcept;
  // From any thread: wakes `g` through the loop's call_soon_threadsafe.
  void wake_threadsafe(greenlet g, std::any value = {});

  // Queues a greenlet that is not parked — a new one, or the current one
  // (sleep(0)) — to be switched to with `value` in the next run phase.
  void schedule(detail::GreenletImpl& g, std::any value = {}) noexcept;

  // Holds the loop alive (LoopExit is not raised) while a wake from another
  // thread or process is expected; RAII.
  class ExternalWaitGuard {
   public:
    explicit ExternalWaitGuard(Hub& hub) noexcept;
    ~ExternalWaitGuard();
    ExternalWaitGuard(const ExternalWaitGuard&) = delete;
    ExternalWaitGuard& operator=(const ExternalWaitGuard&) = delete;

   private:
    Hub& hub_;
  };

  // Runs the hub from a greenlet that is not the hub: switches to it until
  // the hub has nothing left to do (every greenlet finished or parked with
  // nothing to wake it) and returns, instead of raising LoopExit, if no
  // greenlet is parked. gevent's hub.join(). A blocking point like park():
  // a Timeout of the calling greenlet, or a kill(), raises here.
  void join();

  // The live greenlets of this thread that the hub knows (spawned,
  // parked or queued), with their state.
  std::vector<GreenletInfo> dump() const;

  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  struct Impl;

 private:
  Hub();
  std::unique_ptr<Impl> impl_;
};

// The live greenlets of the calling thread, one per line: name, state and
// what each waits on. For debugging; never blocks.
std::string dump();

}  // namespace weft::green
