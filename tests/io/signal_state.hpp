// What the tests of signal handlers on weft's loops read of a signal's
// state: its disposition, and whether the calling thread blocks it.
#pragma once

#include <pthread.h>
#include <signal.h>

namespace weft::test {

using SignalHandler = void (*)(int);

// The signal's handler as sigaction reports it (SIG_DFL, SIG_IGN or one).
inline SignalHandler disposition(int sig) {
  struct sigaction current {};
  ::sigaction(sig, nullptr, &current);
  return current.sa_handler;
}

// Whether the calling thread's signal mask blocks sig.
inline bool blocked_here(int sig) {
  sigset_t mask;
  ::pthread_sigmask(SIG_BLOCK, nullptr, &mask);
  return sigismember(&mask, sig) == 1;
}

}  // namespace weft::test
