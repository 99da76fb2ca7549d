// Stack overflow diagnostics for greenlets: a SIGSEGV handler, on an
// alternate signal stack, that recognises a fault in the guard page below
// the running greenlet's stack and names the greenlet before aborting.
// Faults anywhere else go to the handler that was installed before (or the
// default action).
#pragma once

#include "stack_pool.hpp"
#include "weft/green/detail/switch_core.hpp"

namespace weft::green::detail {

// switch_thread->current (weft/green/detail/switch_core.hpp) says which
// greenlet runs on each thread.

// Installs the handler (once per process) and gives the calling thread an
// alternate signal stack (once per thread, freed when the thread ends).
// Throws std::system_error if the kernel refuses either.
void guard_this_thread();

// Writes "weft: stack overflow in greenlet <name> ..." to stderr, with the
// greenlet's default name if it has none of its own, and aborts.
// Async-signal-safe.
[[noreturn]] void report_overflow(const GreenletName& name, const Stack& stack) noexcept;

}  // namespace weft::green::detail
