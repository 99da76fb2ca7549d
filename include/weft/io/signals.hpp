// weft/io/signals.hpp — io::SignalHandlers: Unix signals delivered to an
// io::Loop as ordinary callbacks, run on the loop's thread. What
// aio::EventLoop::add_signal_handler and green::signal_handler are made of.
//
// The first handler of a SignalHandlers opens a self-pipe, which the loop
// reads (add_reader), and the signal gets a sigaction handler of weft's,
// with SA_RESTART. That handler does nothing but write the signal number to
// the pipe of every SignalHandlers that wants it, so it is async-signal-safe;
// the loop then reads the number and queues the callback with call_soon, as
// asyncio does. The callback therefore runs outside signal context, where it
// may allocate, lock and throw like any callback of the loop. Signals that
// arrive several times before the loop reads them run the callback as many
// times (up to the pipe's capacity).
//
// Differences from Python, where one wakeup fd per process means one loop,
// on the main thread, gets the signals:
//   * any loop on any thread may have signal handlers, and a signal several
//     loops want runs the callback of each of them;
//   * when the last handler of a signal in the process goes, the signal's
//     disposition goes back to what it was before weft's first handler for
//     it (SIG_DFL unless the program had set another) — Python sets SIG_DFL,
//     or default_int_handler for SIGINT;
//   * a child of fork() inherits no handler: each signal weft had installed
//     goes back to its disposition from before, since the loops it would
//     wake cannot run in the child. The SignalHandlers the child inherited
//     hold nothing the child can use; destroying them there is harmless.
// While a SignalHandlers has a handler, its pipe counts as IO of the loop,
// so the loop stays alive (a run that waits for a signal is no deadlock).
// At most 128 SignalHandlers have handlers at a time in a process.
//
// Thread-safety: a SignalHandlers belongs to its loop's thread; different
// ones may be used on different threads at once. A signal may arrive on any
// thread at any moment, during registration too.
#pragma once

#include <memory>
#include <vector>

#include "weft/io/loop.hpp"

namespace weft::io {

// Throws ValueError("invalid signal number N") unless `sig` is a signal of
// this system (Python's signal.valid_signals(): 1 to 64 but the two glibc
// keeps for itself). Never blocks.
void check_signal(int sig);

class SignalHandlers {
 public:
  using Callback = Loop::Callback;

  // Registers nothing yet; `loop` must outlive this object.
  explicit SignalHandlers(Loop& loop) noexcept;
  // clear().
  ~SignalHandlers();
  SignalHandlers(const SignalHandlers&) = delete;
  SignalHandlers& operator=(const SignalHandlers&) = delete;

  // Runs `callback` on the loop's thread (through call_soon) each time
  // `sig` arrives; replaces the callback `sig` had here. Throws ValueError
  // for an invalid signal number, RuntimeError("sig N cannot be caught") for
  // SIGKILL and SIGSTOP, RuntimeError in a child of fork() of the process
  // that made the loop (whether or not this SignalHandlers had handlers
  // there) or if 128 SignalHandlers already have handlers,
  // std::system_error if no pipe can be made; nothing changes then. Never
  // blocks.
  void add(int sig, Callback callback);
  // Removes the callback of `sig`; returns false if it had none. A callback
  // already queued by a signal that arrived before still runs, as in
  // asyncio. Throws ValueError for an invalid signal number. Never blocks.
  bool remove(int sig);
  // Removes every callback and closes the pipe. Never throws; waits only
  // for a signal handler that is running now on another thread and may be
  // writing to this pipe.
  void clear() noexcept;
  bool empty() const noexcept { return entries_.empty(); }

 private:
  struct Entry {
    int sig;
    std::shared_ptr<Callback> callback;  // shared with the call_soon of a signal that arrived
  };
  Entry* find(int sig) noexcept;
  void open();
  void close_pipe() noexcept;
  void on_readable();

  Loop& loop_;
  std::vector<Entry> entries_;
  int read_fd_ = -1;
  int write_fd_ = -1;
  int slot_index_ = -1;
  unsigned slot_generation_ = 0;
};

}  // namespace weft::io
