// The cooperative forms of the calls monkey.cpp interposes: each has libc's
// contract (return value, errno) and parks on `hub` where libc's would
// block. Called only when cooperative_hub() found a hub.
#pragma once

#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

#include <atomic>

#include "weft/detail/deadline.hpp"
#include "weft/green/hub.hpp"

namespace weft::green::monkey::detail {

using Deadline = weft::detail::Deadline;

extern std::atomic<bool> patched;

// The hub to park on when the calling code may park: patched, the thread
// has a hub that is not shutting down, and the caller is not its greenlet.
// Null otherwise. Never throws.
Hub* cooperative_hub() noexcept;

ssize_t read(Hub& hub, int fd, void* buffer, size_t length);
ssize_t readv(Hub& hub, int fd, const iovec* iov, int count);
ssize_t write(Hub& hub, int fd, const void* buffer, size_t length);
ssize_t writev(Hub& hub, int fd, const iovec* iov, int count);

// The socket calls, flags without MSG_DONTWAIT.
ssize_t recvmsg(Hub& hub, int fd, msghdr* message, int flags);
ssize_t recvfrom(Hub& hub, int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length);
ssize_t sendmsg(Hub& hub, int fd, const msghdr* message, int flags);
ssize_t sendto(Hub& hub, int fd, const void* buffer, size_t length, int flags,
               const sockaddr* address, socklen_t address_length);
int accept4(Hub& hub, int fd, sockaddr* address, socklen_t* address_length, int flags);
int connect(Hub& hub, int fd, const sockaddr* address, socklen_t address_length);

// poll with an absolute deadline (none: no limit).
int poll(Hub& hub, pollfd* fds, nfds_t count, const Deadline& deadline);
// select with a deadline; `timeout`, if given, receives the time left.
int select(Hub& hub, int count, fd_set* readable, fd_set* writable, fd_set* exceptional,
           const Deadline& deadline, timeval* timeout);
// Sleeps until `deadline` (a past one yields). Always returns 0.
int sleep_until(weft::detail::Clock::time_point deadline);

// The deadline `ts` from now; saturates when it does not fit.
weft::detail::Clock::time_point deadline_after(const timespec& ts) noexcept;

// Closes fd as close(2) does, after waking this thread's greenlets waiting
// on it and making its hub forget it (see green::close_fd).
int close(int fd);

}  // namespace weft::green::monkey::detail
