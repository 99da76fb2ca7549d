// weft/green/wait.hpp — waiting for a file descriptor on the hub: gevent's
// gevent.socket.wait_read / wait_write, the primitive under green::socket
// and monkey patching. wait_read and wait_write are gevent's names for
// wait_readable and wait_writable.
//
// wait_readable(fd) parks the calling greenlet until fd is readable (or has
// an error or hang-up to report), letting every other greenlet of the thread
// run meanwhile; wait_writable(fd) likewise for writing. Called from the
// main greenlet, they run the hub until fd is ready. The descriptor's own
// mode is left alone: the wait only asks the hub's event loop about it.
// Readiness is a hint, as with poll(2): the call that follows may still find
// nothing to do (another reader took the data) and must be ready to wait
// again. Regular files are always ready.
//
// Several greenlets may wait on one descriptor at once; all are woken when
// it becomes ready.
//
// Closing: a descriptor that was waited on must be closed through
// green::close_fd() (green::socket::close does, and so does close(2) once
// monkey::patch_all() has run), which wakes its waiters with
// OSError(EBADF) and makes the hub forget it. Closed behind the hub's back,
// its number, when the kernel reuses it, may never report readiness on the
// epoll backend.
//
// Exceptions: net::TimeoutError ("timed out") when `deadline` (or `timeout`)
// passes first; net::OSError(EBADF) when the descriptor is closed through
// close_fd() by another greenlet while this one waits; whatever is thrown
// into the parked greenlet (green::Timeout, GreenletExit), the wait being
// cancelled cleanly on every path; ValueError for a negative descriptor, or
// one the hub's loop already watches for someone else (Loop::add_reader);
// std::system_error if the thread's hub cannot be made.
//
// Thread-safety: a wait belongs to the calling thread's hub; waits on one
// descriptor from several threads are independent of each other.
#pragma once

#include <chrono>

#include "weft/detail/deadline.hpp"

namespace weft::green {

// A point on the monotonic clock (std::chrono::steady_clock); no value
// waits without limit.
using WaitDeadline = weft::detail::Deadline;

// Parks until fd is readable / writable or `deadline` passes (then throws
// net::TimeoutError).
void wait_readable(int fd, WaitDeadline deadline = std::nullopt);
void wait_writable(int fd, WaitDeadline deadline = std::nullopt);

// The same with a timeout from now; a negative one counts as 0.
template <class Rep, class Period>
void wait_readable(int fd, std::chrono::duration<Rep, Period> timeout) {
  wait_readable(fd, weft::detail::deadline_after_clamped(timeout));
}
template <class Rep, class Period>
void wait_writable(int fd, std::chrono::duration<Rep, Period> timeout) {
  wait_writable(fd, weft::detail::deadline_after_clamped(timeout));
}

// gevent.socket.wait_read / wait_write: the same waits under gevent's names.
inline void wait_read(int fd, WaitDeadline deadline = std::nullopt) { wait_readable(fd, deadline); }
inline void wait_write(int fd, WaitDeadline deadline = std::nullopt) { wait_writable(fd, deadline); }
template <class Rep, class Period>
void wait_read(int fd, std::chrono::duration<Rep, Period> timeout) {
  wait_readable(fd, timeout);
}
template <class Rep, class Period>
void wait_write(int fd, std::chrono::duration<Rep, Period> timeout) {
  wait_writable(fd, timeout);
}

// Closes fd (as close(2), ignoring its error) after waking every greenlet
// of this thread that waits on it with OSError(EBADF) ("File descriptor was
// closed in another greenlet") and removing it from the hub's event loop.
// Never blocks; never throws.
void close_fd(int fd) noexcept;

}  // namespace weft::green
