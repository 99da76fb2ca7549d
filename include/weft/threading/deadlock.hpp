// weft/threading/deadlock.hpp — lock-order deadlock detection.
//
// Python lets seed 001's classic deadlock happen: one thread takes lock a
// then b, another takes b then a, and both hang forever. weft can see it
// coming. While detection is on, every weft::Lock and weft::RLock that a
// thread acquires while holding others adds "held -> acquired" edges to a
// global lock-order graph. An acquisition that would close a cycle in that
// graph — an order in which some interleaving deadlocks — is reported with
// the locks and the threads that established each edge, before the thread
// blocks, and whether or not the program would actually hang this time.
// Re-acquiring, without a timeout, a non-recursive Lock that the same thread
// already holds is reported too, as a self-deadlock: it waits forever unless
// another thread releases the Lock (Python allows that hand-off; under raise
// or abort, signal with an Event or a Semaphore instead). A timed
// re-acquisition is not reported: it ends in its timeout.
//
// Modes:
//   off     no tracking; acquire/release cost one relaxed load extra.
//   report  the report goes to the handler (default: standard error), once
//           per distinct cycle, and the acquisition proceeds.
//   raise   the report goes to the handler once, and every acquisition that
//           closes a cycle throws DeadlockError instead of blocking.
//   abort   the report goes to the handler, then the process aborts.
//
// The default is `report` when weft itself is built without NDEBUG (a debug
// build) and `off` otherwise; the environment variable WEFT_DEADLOCK
// (off|report|raise|abort), read at start-up, overrides it. Only blocking
// and timed acquisitions are checked (a non-blocking try cannot deadlock),
// but every successful acquisition counts as held; a thread_local destructor
// that runs after weft's own for its thread takes locks untracked. Tracking
// takes a global lock per acquisition: it is a debugging aid, not for hot
// production paths.
//
// Thread-safety: every function here may be called from any thread.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "weft/errors.hpp"

namespace weft {

enum class DeadlockMode { off, report, raise, abort };

// Thrown, in `raise` mode, by an acquisition that would close a lock-order
// cycle. The lock was not acquired. what() is the full report.
class DeadlockError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

struct DeadlockReport {
  enum class Kind {
    lock_order_cycle,  // the acquisition closes a cycle in the lock-order graph
    self_deadlock,     // a thread re-acquires a Lock it already holds
  };
  // One edge of the cycle: `thread` acquired `acquired` while holding `held`.
  // Locks are given as display labels: kind, name if any, and address, as
  // in "Lock 'a' (0x7ffd5c1e2a40)" or "RLock at 0x7ffd5c1e2a40".
  struct Edge {
    std::string thread;
    std::string held;
    std::string acquired;
  };
  Kind kind = Kind::lock_order_cycle;
  // The thread making the acquisition that was reported.
  std::string thread;
  // The cycle, starting with the edge the reported acquisition would add.
  std::vector<Edge> cycle;
  // A human-readable rendering of all of the above.
  std::string text;
};

using DeadlockHandler = std::function<void(const DeadlockReport&)>;

void set_deadlock_detection(DeadlockMode mode) noexcept;
DeadlockMode deadlock_detection() noexcept;

// Installs the handler that receives reports; returns the previous one. An
// empty handler restores the default (print the report to standard error).
// The handler runs on the acquiring thread with no weft lock held by the
// detector; it must not throw.
DeadlockHandler set_deadlock_handler(DeadlockHandler handler);

// Forgets every edge learnt so far (for tests and for programs that change
// their locking discipline in phases). Locks held right now stay held.
void reset_deadlock_graph();

}  // namespace weft
