// Stack overflow diagnostics for greenlets: a SIGSEGV handler, on an
// alternate signal stack, that recognises a fault in the guard page below
// the running greenlet's stack and names the greenlet before aborting.
// Faults anywhere else go to the handler that was installed before (or the
// default action).
#pragma once

#include <string>

#include "stack_pool.hpp"

namespace weft::green::detail {

// What the handler needs to know about a greenlet: its stack (null for a
// thread's main greenlet) and its name. Each greenlet keeps one; every
// switch points running_greenlet at the one of the greenlet it resumes (a
// single store); null before a thread's first switch and after its
// greenlets are gone.
struct RunningGreenlet {
  const Stack* stack = nullptr;
  const std::string* name = nullptr;
};
extern constinit __attribute__((tls_model("initial-exec"))) thread_local const RunningGreenlet* running_greenlet;

// Installs the handler (once per process) and gives the calling thread an
// alternate signal stack (once per thread, freed when the thread ends).
// Throws std::system_error if the kernel refuses either.
void guard_this_thread();

// Writes "weft: stack overflow in greenlet <name> ..." to stderr and
// aborts. Async-signal-safe.
[[noreturn]] void report_overflow(const std::string& name, const Stack& stack) noexcept;

}  // namespace weft::green::detail
