// wait_readable, wait_writable and close_fd: the public face of the hub's
// readiness waits (wait_table.cpp), and wait_fd, their form for sockets.
#include "weft/green/wait.hpp"

#include <unistd.h>

#include <cerrno>

#include "wait_table.hpp"
#include "weft/errors.hpp"
#include "weft/green/hub.hpp"
#include "weft/net/errors.hpp"

namespace weft::green {

bool detail::wait_fd(int fd, std::uint32_t events, const WaitDeadline& deadline, const char* what) {
  const FdInterest interest{fd, events};
  const int report = wait_fds(Hub::current(), {&interest, 1}, deadline, what);
  if (report > 0) return true;
  if (report == kTimedOut) return false;
  if (report == kClosed)
    throw net::OSError(std::error_code(EBADF, std::generic_category()),
                       "[Errno 9] File descriptor was closed in another greenlet");
  net::raise_os_error(-report, what);
}

void wait_readable(int fd, WaitDeadline deadline) {
  if (fd < 0) throw ValueError("file descriptor cannot be a negative integer");
  if (!detail::wait_fd(fd, detail::kReadable, deadline, "wait_readable")) throw net::TimeoutError();
}

void wait_writable(int fd, WaitDeadline deadline) {
  if (fd < 0) throw ValueError("file descriptor cannot be a negative integer");
  if (!detail::wait_fd(fd, detail::kWritable, deadline, "wait_writable")) throw net::TimeoutError();
}

void close_fd(int fd) noexcept {
  if (fd < 0) return;
  Hub* hub = Hub::current_if_any();
  if (hub != nullptr && detail::forget_fd(*hub, fd)) {
    hub->loop().close(fd);
  } else {
    ::close(fd);
  }
}

}  // namespace weft::green
