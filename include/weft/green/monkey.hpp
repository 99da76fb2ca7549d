// weft/green/monkey.hpp — gevent's monkey.patch_all() for native code:
// unmodified blocking C and C++ code, run in a greenlet, parks on the hub
// where it would block the thread.
//
//   green::monkey::patch_all();
//   auto g = green::spawn([] { curl_easy_perform(handle); });  // a blocking C library
//   std::this_thread::sleep_for(1s);                            // other greenlets run
//
// How: patch_all() points every loaded object's entries for the calls
// listed below (read, recv, poll, nanosleep, ...) in its global offset
// table — the program's and every shared library's: libcurl, hiredis,
// OpenSSL, libstdc++ — at weft's own versions of them. Each of those
// forwards to libc's definition (found once with dlsym(RTLD_NEXT), so a
// sanitizer's interceptor stays in front of it) unless all of these hold:
//   - patch_all() has run (and unpatch_all() has not run since);
//   - the calling thread has a hub (it has spawned, slept, waited, ...);
//   - the caller is not the hub greenlet (hub callbacks, link callbacks)
//     and the hub is not shutting down.
// Then a call that would block parks the calling greenlet until the
// descriptor is ready or the time is up, and every other greenlet of the
// thread runs meanwhile. As in gevent, the main greenlet counts: a patched
// sleep there runs the hub. Until patch_all() runs, nothing is redirected;
// a program that never calls it does not even link weft's versions.
// Objects loaded (dlopen) after patch_all() are covered once it is called
// again. Needs a dynamically linked program (the default) on x86-64 or
// AArch64; elsewhere patch_all() changes no call.
//
// What a caller sees is what libc gives: the same return values, errno,
// partial results and descriptor flags. Descriptors in O_NONBLOCK mode (set
// by the caller) are never waited for: their EAGAIN is returned as is.
// Blocking descriptors keep their mode; each call is made non-blocking on
// its own (MSG_DONTWAIT for sockets; for other descriptors a readiness
// check, then the call).
//
// Patched (cooperative in a greenlet):
//   read, readv, write, writev — sockets as recv/send below; pipes, FIFOs
//       and terminals wait for readiness first (writes go out in PIPE_BUF
//       pieces, waiting between them); regular files and block devices are
//       always ready and go straight to libc.
//   recv, recvfrom, recvmsg, send, sendto, sendmsg — a blocking send sends
//       everything, as the kernel's does; MSG_WAITALL receives on stream
//       sockets gather the whole length (recvmsg excepted: see below), but
//       with MSG_PEEK they return what has arrived once something has, as
//       a Unix socket's does (a TCP socket's would wait for the length);
//       SO_RCVTIMEO / SO_SNDTIMEO bound the wait and end it with EAGAIN.
//   accept, accept4 — wait until a connection is pending.
//   connect — made non-blocking for the call, then waits for the outcome
//       (SO_SNDTIMEO bounds it: EINPROGRESS, as the kernel reports it).
//   poll, ppoll (without a signal mask), select — wait for any of the
//       descriptors (POLLIN/POLLRDNORM for reading, POLLOUT/POLLWRNORM for
//       writing) or the timeout, then fill in the results with libc's own
//       call; select updates the timeout to the time left, as Linux does.
//   sleep, usleep, nanosleep, clock_nanosleep (CLOCK_REALTIME,
//       CLOCK_MONOTONIC, CLOCK_BOOTTIME; relative or TIMER_ABSTIME) — and so
//       std::this_thread::sleep_for/sleep_until. A zero sleep yields to
//       every greenlet already ready.
//   close — of a descriptor this thread's hub waited on: wakes the
//       greenlets waiting on it (EBADF) and makes the hub forget it first
//       (also after unpatch_all()).
//   __read_chk, __recv_chk, __recvfrom_chk, __poll_chk, __ppoll_chk — the
//       _FORTIFY_SOURCE forms that Debian's libraries call.
//
// Not patched (they block the thread as before): epoll_wait and other
// event-loop calls; pselect, and ppoll with a signal mask; recvmmsg,
// sendmmsg, sendfile, splice; stdio (fread, fgets: libc calls its own read
// internally); pread/pwrite; getaddrinfo and the other resolver calls
// (resolve numeric addresses, or on a thread of their own); waitpid and
// system; pthread mutexes, condition variables, futexes and
// weft::threading's locks; anything called through syscall() directly or
// submitted to io_uring; poll entries asking for none of those events
// (only POLLPRI, say: they wait for the timeout, or block when there is
// none); recvmsg with MSG_WAITALL (waits for the first byte, then blocks
// for the rest); connect of a Unix socket whose listener's queue is full,
// and accept racing another process's accept on a shared socket (they
// block).
//
// Traps (known from gevent and libco; patching cannot fix them):
//   - Thread-local storage is per thread, not per greenlet: errno, OpenSSL's
//     error queue, strtok, a C library's "current" state are shared by all
//     the greenlets of a thread. Read errno right after the call, as usual;
//     never hold thread-local state across a call that may park.
//   - A lock held across a call that parks blocks every greenlet of the
//     thread that wants it — and the thread itself, since a pthread mutex
//     blocks the thread: a deadlock if the holder is one of them. Do not
//     park while holding a thread lock; use green::Lock between greenlets.
//   - Exceptions thrown into a parked greenlet (green::Timeout, kill())
//     propagate out of the patched call, through the C library's frames:
//     unwinding works (Debian builds C with unwind tables) but the library's
//     own cleanup does not run — its handle may be left half-done. Bound C
//     libraries with their own timeouts rather than killing them.
//   - Signal handlers run on the thread whatever greenlet is current: one
//     that makes a patched call that would block parks inside the handler.
//     Make handlers use non-blocking descriptors only.
//   - A descriptor closed other than through close() (dup2 over it, fclose,
//     another thread) while this thread's hub waited on it may make the
//     hub miss readiness on the descriptor number's next use.
//   - Calls are cooperative only on the thread of the hub; a library that
//     does its blocking on a thread of its own (a resolver thread) blocks
//     that thread, not the greenlets.
//   - Signals no longer interrupt a parked call: it resumes when ready, as
//     with SA_RESTART (it never fails with EINTR).
//   - Calls that do not go through a global offset table are not seen: a
//     statically linked C library, a library calling its own definition,
//     code that stored libc's function pointer before patch_all().
//
// Thread-safety: patch_all(), unpatch_all() and is_patched() may be called
// from any thread; they take effect for calls made after them on every
// thread.
#pragma once

namespace weft::green::monkey {

// Makes the calls above cooperative from now on, in every object loaded
// (again, to cover objects loaded since the last call). Idempotent. Never
// blocks; never throws.
void patch_all() noexcept;
// Makes them plain libc calls again: weft's versions stay in the tables but
// forward to libc (waits already parked finish as they started). Never
// blocks; never throws.
void unpatch_all() noexcept;
// Whether patch_all() is in effect.
bool is_patched() noexcept;

}  // namespace weft::green::monkey
