// src/io/signal_dispatcher.hpp — the process-wide table behind
// io::SignalHandlers: which loops want which signals, and the sigaction
// handler that tells them.
//
// Each interested SignalHandlers holds a slot: the write end of its
// self-pipe and the set of signals it wants. The handler installed for a
// signal only reads the slots (lock-free atomics) and writes the signal
// number, one byte, to the pipe of every slot that wants it — nothing else,
// so it is async-signal-safe; it saves and restores errno. Registration
// takes a mutex that the handler never does, so a signal may arrive at any
// point of it. A signal's first registration installs the handler with
// SA_RESTART (Python's siginterrupt(sig, False)); its last removal puts back
// the disposition that was there before.
//
// fork(): the child starts with an empty table, and every signal the parent
// had installed goes back, in the child, to its disposition from before (the
// loops it would wake cannot run there). Slots the child inherited are
// stale: releasing them touches nothing. Until that reset, the handler
// ignores signals that reach the child.
#pragma once

namespace weft::io::detail::signal_dispatcher {

// A slot held by a SignalHandlers: its index, and the fork generation it
// belongs to.
struct Slot {
  int index = -1;
  unsigned generation = 0;
  explicit operator bool() const noexcept { return index >= 0; }
};

// Takes a slot for the pipe's write end `write_fd` (non-blocking). Throws
// RuntimeError if every slot is taken. Thread-safe.
Slot attach(int write_fd);
// Lets the slot go. On return no signal handler still uses its fd, which
// the caller may then close. Thread-safe; waits only for handlers running
// now on other threads that may still write to this slot's fd.
void detach(Slot slot) noexcept;
// Makes the slot's pipe receive `sig` (a valid signal number), installing
// the handler on the signal's first registration. Throws RuntimeError("sig
// N cannot be caught") for SIGKILL and SIGSTOP, std::system_error for
// another refusal. Thread-safe.
void want(Slot slot, int sig);
// Stops that; the signal's last registration puts back its disposition
// from before the first. Thread-safe; never throws.
void unwant(Slot slot, int sig) noexcept;

}  // namespace weft::io::detail::signal_dispatcher
