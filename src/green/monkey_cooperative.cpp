// The cooperative forms of the interposed calls (monkey_cooperative.hpp).
//
// Sockets: each attempt passes MSG_DONTWAIT, so the call never blocks
// whatever the descriptor's mode; an EAGAIN on a descriptor the caller left
// blocking parks until the socket is ready, then the call is tried again.
// Other descriptors have no per-call non-blocking flag: a zero-timeout
// poll() says whether the call would block, and the greenlet parks until it
// would not. Descriptors in O_NONBLOCK mode are never waited for.
#include "monkey_cooperative.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "hub_impl.hpp"
#include "monkey_libc.hpp"
#include "wait_table.hpp"
#include "weft/errors.hpp"
#include "weft/green/sleep.hpp"

namespace weft::green::monkey::detail {

std::atomic<bool> patched{false};

namespace {

using weft::detail::Clock;
using green::detail::FdInterest;
using green::detail::kReadable;
using green::detail::kWritable;

const libc::Calls& c() noexcept { return libc::calls(); }

ssize_t fail(int error) noexcept {
  errno = error;
  return -1;
}

bool would_block(int error) noexcept { return error == EAGAIN || error == EWOULDBLOCK; }

// Whether the caller put fd in O_NONBLOCK mode (then its EAGAIN is its own).
bool nonblocking(int fd) noexcept {
  const int saved = errno;
  const int flags = ::fcntl(fd, F_GETFL);
  errno = saved;
  return flags >= 0 && (flags & O_NONBLOCK) != 0;
}

bool is_stream(int fd) noexcept {
  int type = 0;
  socklen_t size = sizeof type;
  return ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) == 0 && type == SOCK_STREAM;
}

// A socket's SO_RCVTIMEO / SO_SNDTIMEO as a deadline from now.
Deadline socket_deadline(int fd, int option) noexcept {
  timeval limit{};
  socklen_t size = sizeof limit;
  if (::getsockopt(fd, SOL_SOCKET, option, &limit, &size) != 0 || (limit.tv_sec == 0 && limit.tv_usec == 0))
    return std::nullopt;
  return Clock::now() + std::chrono::seconds(limit.tv_sec) + std::chrono::microseconds(limit.tv_usec);
}

enum class Waited { ready, timed_out, closed, unwatchable };

// Parks until the descriptors are ready (see wait_fds). `unwatchable`: the
// hub cannot watch one (someone else's watch on it): do libc's blocking call.
Waited wait_for(Hub& hub, std::span<const FdInterest> interests, const Deadline& deadline,
                const char* what) {
  int report;
  try {
    report = green::detail::wait_fds(hub, interests, deadline, what);
  } catch (const ValueError&) {
    return Waited::unwatchable;
  }
  if (report > 0) return Waited::ready;
  if (report == green::detail::kTimedOut) return Waited::timed_out;
  if (report == green::detail::kClosed) return Waited::closed;
  return Waited::unwatchable;
}

Waited wait_for(Hub& hub, int fd, std::uint32_t events, const Deadline& deadline, const char* what) {
  const FdInterest interest{fd, events};
  return wait_for(hub, {&interest, 1}, deadline, what);
}

// How long one blocking call may wait, read once per call, at its first
// wait: not at all if the caller put the descriptor in O_NONBLOCK mode,
// else until the deadline its socket's timeout option (SO_RCVTIMEO or
// SO_SNDTIMEO; 0 for none) sets from then. The kernel, too, counts a
// blocking call's timeout once, however many pieces it moves.
class Patience {
 public:
  Patience(int fd, int timeout_option) noexcept : fd_(fd), timeout_option_(timeout_option) {}

  bool may_wait() noexcept {
    read();
    return !nonblocking_;
  }
  const Deadline& deadline() noexcept {
    read();
    return deadline_;
  }

 private:
  void read() noexcept {
    if (read_) return;
    read_ = true;
    nonblocking_ = nonblocking(fd_);
    if (!nonblocking_ && timeout_option_ != 0) deadline_ = socket_deadline(fd_, timeout_option_);
  }

  int fd_;
  int timeout_option_;
  bool read_ = false;
  bool nonblocking_ = false;
  Deadline deadline_;
};

// Runs `attempt(extra_flags)` with MSG_DONTWAIT until it does anything but
// fail with EAGAIN, parking until the socket is ready for `events` between
// tries, as the blocking call would wait. Returns libc's result and errno.
template <class Attempt>
ssize_t retry(Hub& hub, int fd, std::uint32_t events, Patience& patience, const char* what, Attempt attempt) {
  for (;;) {
    const ssize_t result = attempt(MSG_DONTWAIT);
    if (result >= 0 || !would_block(errno)) return result;
    if (!patience.may_wait()) return fail(EAGAIN);
    switch (wait_for(hub, fd, events, patience.deadline(), what)) {
      case Waited::ready:
        break;
      case Waited::timed_out:
        return fail(EAGAIN);  // what the kernel says when SO_RCVTIMEO runs out
      case Waited::closed:
        return fail(EBADF);
      case Waited::unwatchable:
        return attempt(0);
    }
  }
}

// Sends all of a stream, as a blocking send does, from `sent` bytes on:
// `attempt(offset, extra_flags)` sends from `offset`. Returns the bytes sent
// if any, else -1 and errno.
template <class Attempt>
ssize_t send_all(Hub& hub, int fd, std::size_t length, std::size_t sent, Patience& patience, const char* what,
                 Attempt attempt) {
  do {
    const ssize_t n = retry(hub, fd, kWritable, patience, what, [&](int extra) { return attempt(sent, extra); });
    if (n < 0) return sent > 0 ? static_cast<ssize_t>(sent) : -1;
    sent += static_cast<std::size_t>(n);
  } while (sent < length);
  return static_cast<ssize_t>(sent);
}

enum class Ready { go, closed, timed_out };

// For a call without a non-blocking flag: parks until a call for `events`
// would not block (or the call should go ahead and report what it finds),
// or `patience` runs out.
Ready await_ready(Hub& hub, int fd, short poll_events, std::uint32_t events, Patience& patience, const char* what) {
  for (;;) {
    pollfd probe{fd, poll_events, 0};
    if (c().poll(&probe, 1, 0) != 0 || !patience.may_wait()) return Ready::go;
    switch (wait_for(hub, fd, events, patience.deadline(), what)) {
      case Waited::ready:
        break;
      case Waited::closed:
        return Ready::closed;
      case Waited::timed_out:
        return Ready::timed_out;
      case Waited::unwatchable:
        return Ready::go;
    }
  }
}

// await_ready for a descriptor that is not a socket: no timeout option.
Ready await_ready(Hub& hub, int fd, short poll_events, std::uint32_t events, const char* what) {
  Patience patience(fd, 0);
  return await_ready(hub, fd, poll_events, events, patience, what);
}

// Pipes, FIFOs and terminals fill up; files and block devices never block.
bool may_block(int fd) noexcept {
  struct stat status {};
  return ::fstat(fd, &status) == 0 && (S_ISFIFO(status.st_mode) || S_ISCHR(status.st_mode));
}

// The part of an iovec array not yet transferred.
class IovTail {
 public:
  IovTail(const iovec* iov, int count) : iov_(iov, iov + std::max(count, 0)) {}

  void advance(std::size_t bytes) {
    auto it = iov_.begin();
    while (it != iov_.end() && bytes >= it->iov_len) bytes -= (it++)->iov_len;
    iov_.erase(iov_.begin(), it);
    if (bytes > 0) {
      iov_.front().iov_base = static_cast<char*>(iov_.front().iov_base) + bytes;
      iov_.front().iov_len -= bytes;
    }
  }
  // The iovecs of at most `limit` bytes from the front (the last cut).
  std::vector<iovec> front(std::size_t limit) const {
    std::vector<iovec> part;
    for (const iovec& piece : iov_) {
      if (limit == 0) break;
      part.push_back({piece.iov_base, std::min(piece.iov_len, limit)});
      limit -= part.back().iov_len;
    }
    return part;
  }
  iovec* data() noexcept { return iov_.data(); }
  int count() const noexcept { return static_cast<int>(iov_.size()); }

 private:
  std::vector<iovec> iov_;
};

std::size_t total_length(const iovec* iov, int count) noexcept {
  std::size_t total = 0;
  for (int i = 0; i < count; ++i) total += iov[i].iov_len;
  return total;
}

// Writes to a pipe or terminal in PIPE_BUF pieces, each once the descriptor
// is writable: a blocking write of more could block the thread.
// `write_piece(offset, limit)` writes at most `limit` bytes from `offset`.
template <class WritePiece>
ssize_t write_in_pieces(Hub& hub, int fd, std::size_t length, WritePiece write_piece) {
  std::size_t done = 0;
  do {
    if (await_ready(hub, fd, POLLOUT, kWritable, "write") == Ready::closed)
      return done > 0 ? static_cast<ssize_t>(done) : fail(EBADF);
    const ssize_t n = write_piece(done, std::min<std::size_t>(length - done, PIPE_BUF));
    if (n < 0) return done > 0 ? static_cast<ssize_t>(done) : -1;
    done += static_cast<std::size_t>(n);
  } while (done < length);
  return static_cast<ssize_t>(done);
}

// The time left until `deadline`, in poll()'s milliseconds (-1: none).
int remaining_ms(const Deadline& deadline) noexcept {
  if (!deadline) return -1;
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

// Waits for the interests of a poll or select that found nothing ready,
// then runs `look()` (libc's call with a zero timeout) until it finds
// something or the deadline passes. `block(ms)` is libc's call waiting at
// most ms, for what the hub cannot watch.
template <class Look, class Block>
int wait_and_look(Hub& hub, const std::vector<FdInterest>& interests, const Deadline& deadline,
                  const char* what, Look look, Block block) {
  if (interests.empty() && !deadline) return block(-1);
  for (;;) {
    Waited waited = Waited::timed_out;
    if (interests.empty()) {
      sleep_until(*deadline);
    } else {
      waited = wait_for(hub, interests, deadline, what);
    }
    if (waited == Waited::unwatchable) return block(remaining_ms(deadline));
    const int ready = look();
    if (ready != 0 || waited == Waited::timed_out) return ready;
  }
}

// While close() runs Loop::close, which makes the close(2) itself and so
// comes back through the interposed close(): that call's outcome.
struct CloseOutcome {
  int result = 0;
  int error = 0;
};
thread_local CloseOutcome* tls_loop_close = nullptr;

std::uint32_t poll_interest(short events) noexcept {
  std::uint32_t interest = 0;
  if ((events & (POLLIN | POLLRDNORM)) != 0) interest |= kReadable;
  if ((events & (POLLOUT | POLLWRNORM)) != 0) interest |= kWritable;
  return interest;
}

}  // namespace

Hub* cooperative_hub() noexcept {
  if (!patched.load(std::memory_order_relaxed)) return nullptr;
  Hub* hub = Hub::current_if_any();
  if (hub == nullptr) return nullptr;
  const Hub::Impl& impl = Hub::Impl::of(*hub);
  if (impl.closing || impl.hub_impl == nullptr || greenlet::getcurrent().get() == impl.hub_impl)
    return nullptr;
  return hub;
}

ssize_t recvfrom(Hub& hub, int fd, void* buffer, size_t length, int flags, sockaddr* address,
                 socklen_t* address_length) {
  auto* bytes = static_cast<char*>(buffer);
  Patience patience(fd, SO_RCVTIMEO);
  const auto receive = [&](std::size_t offset) {
    return retry(hub, fd, kReadable, patience, "recv", [&](int extra) {
      return c().recvfrom(fd, bytes + offset, length - offset, flags | extra, address, address_length);
    });
  };
  // A peek reads from the queue's start each time, so it is never gathered
  // at an offset: it takes what has arrived once something has.
  if ((flags & MSG_WAITALL) == 0 || (flags & MSG_PEEK) != 0 || !is_stream(fd)) return receive(0);
  // MSG_WAITALL with MSG_DONTWAIT takes what has arrived: gather the rest.
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = receive(got);
    if (n < 0) return got > 0 ? static_cast<ssize_t>(got) : -1;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

ssize_t recvmsg(Hub& hub, int fd, msghdr* message, int flags) {
  Patience patience(fd, SO_RCVTIMEO);
  if ((flags & MSG_WAITALL) != 0) {
    switch (await_ready(hub, fd, POLLIN, kReadable, patience, "recvmsg")) {
      case Ready::go:
        return c().recvmsg(fd, message, flags);
      case Ready::closed:
        return fail(EBADF);
      case Ready::timed_out:
        return fail(EAGAIN);
    }
  }
  return retry(hub, fd, kReadable, patience, "recvmsg",
               [&](int extra) { return c().recvmsg(fd, message, flags | extra); });
}

// Sends the rest of an iovec array, from byte `sent` on, as sendmsg calls
// without ancillary data.
ssize_t send_iov_rest(Hub& hub, int fd, const iovec* iov, int count, std::size_t length, std::size_t sent,
                      int flags, Patience& patience, const char* what) {
  IovTail tail(iov, count);
  std::size_t consumed = 0;
  return send_all(hub, fd, length, sent, patience, what, [&](std::size_t offset, int extra) {
    tail.advance(offset - consumed);
    consumed = offset;
    msghdr rest{};
    rest.msg_iov = tail.data();
    rest.msg_iovlen = static_cast<std::size_t>(tail.count());
    return c().sendmsg(fd, &rest, flags | extra);
  });
}

ssize_t sendto(Hub& hub, int fd, const void* buffer, size_t length, int flags,
               const sockaddr* address, socklen_t address_length) {
  const auto* bytes = static_cast<const char*>(buffer);
  Patience patience(fd, SO_SNDTIMEO);
  return send_all(hub, fd, length, 0, patience, "send", [&](std::size_t offset, int extra) {
    return c().sendto(fd, bytes + offset, length - offset, flags | extra, address, address_length);
  });
}

ssize_t sendmsg(Hub& hub, int fd, const msghdr* message, int flags) {
  const std::size_t length = total_length(message->msg_iov, static_cast<int>(message->msg_iovlen));
  Patience patience(fd, SO_SNDTIMEO);
  const ssize_t first =
      retry(hub, fd, kWritable, patience, "sendmsg", [&](int extra) { return c().sendmsg(fd, message, flags | extra); });
  if (first < 0 || static_cast<std::size_t>(first) >= length) return first;
  // A stream took part of it: the rest goes without the ancillary data,
  // which went with the first part.
  return send_iov_rest(hub, fd, message->msg_iov, static_cast<int>(message->msg_iovlen), length,
                       static_cast<std::size_t>(first), flags, patience, "sendmsg");
}

ssize_t read(Hub& hub, int fd, void* buffer, size_t length) {
  const ssize_t n = c().recv(fd, buffer, length, MSG_DONTWAIT);
  if (n >= 0 || (errno != ENOTSOCK && !would_block(errno))) return n;
  if (errno != ENOTSOCK) return recvfrom(hub, fd, buffer, length, 0, nullptr, nullptr);
  if (await_ready(hub, fd, POLLIN, kReadable, "read") == Ready::closed) return fail(EBADF);
  return c().read(fd, buffer, length);
}

ssize_t readv(Hub& hub, int fd, const iovec* iov, int count) {
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = static_cast<std::size_t>(std::max(count, 0));
  const ssize_t n = c().recvmsg(fd, &message, MSG_DONTWAIT);
  if (n >= 0 || (errno != ENOTSOCK && !would_block(errno))) return n;
  if (errno != ENOTSOCK) return recvmsg(hub, fd, &message, 0);
  if (await_ready(hub, fd, POLLIN, kReadable, "read") == Ready::closed) return fail(EBADF);
  return c().readv(fd, iov, count);
}

ssize_t write(Hub& hub, int fd, const void* buffer, size_t length) {
  const auto* bytes = static_cast<const char*>(buffer);
  // send() without MSG_NOSIGNAL keeps write()'s SIGPIPE.
  const ssize_t n = c().send(fd, buffer, length, MSG_DONTWAIT);
  if (n >= 0 || errno != ENOTSOCK) {
    if ((n >= 0 && static_cast<std::size_t>(n) == length) || (n < 0 && !would_block(errno))) return n;
    Patience patience(fd, SO_SNDTIMEO);
    return send_all(hub, fd, length, n > 0 ? static_cast<std::size_t>(n) : 0, patience, "write",
                    [&](std::size_t offset, int extra) {
                      return c().send(fd, bytes + offset, length - offset, extra);
                    });
  }
  if (nonblocking(fd) || !may_block(fd)) return c().write(fd, buffer, length);
  return write_in_pieces(hub, fd, length, [&](std::size_t offset, std::size_t limit) {
    return c().write(fd, bytes + offset, limit);
  });
}

ssize_t writev(Hub& hub, int fd, const iovec* iov, int count) {
  const std::size_t length = total_length(iov, count);
  msghdr message{};
  message.msg_iov = const_cast<iovec*>(iov);
  message.msg_iovlen = static_cast<std::size_t>(std::max(count, 0));
  const ssize_t n = c().sendmsg(fd, &message, MSG_DONTWAIT);
  if (n >= 0 || errno != ENOTSOCK) {
    if ((n >= 0 && static_cast<std::size_t>(n) == length) || (n < 0 && !would_block(errno))) return n;
    Patience patience(fd, SO_SNDTIMEO);
    return send_iov_rest(hub, fd, iov, count, length, n > 0 ? static_cast<std::size_t>(n) : 0, 0, patience,
                         "write");
  }
  if (nonblocking(fd) || !may_block(fd)) return c().writev(fd, iov, count);
  IovTail tail(iov, count);
  std::size_t consumed = 0;
  return write_in_pieces(hub, fd, length, [&](std::size_t offset, std::size_t limit) {
    tail.advance(offset - consumed);
    consumed = offset;
    std::vector<iovec> piece = tail.front(limit);
    return c().writev(fd, piece.data(), static_cast<int>(piece.size()));
  });
}

int accept4(Hub& hub, int fd, sockaddr* address, socklen_t* address_length, int flags) {
  Patience patience(fd, SO_RCVTIMEO);  // a listener's SO_RCVTIMEO bounds accept()
  switch (await_ready(hub, fd, POLLIN, kReadable, patience, "accept")) {
    case Ready::go:
      return c().accept4(fd, address, address_length, flags);
    case Ready::closed:
      return static_cast<int>(fail(EBADF));
    case Ready::timed_out:
      break;
  }
  return static_cast<int>(fail(EAGAIN));
}

int connect(Hub& hub, int fd, const sockaddr* address, socklen_t address_length) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || (flags & O_NONBLOCK) != 0) return c().connect(fd, address, address_length);
  // Non-blocking for the call only: the connection goes on being made
  // whatever the mode once connect() has returned EINPROGRESS.
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const int result = c().connect(fd, address, address_length);
  const int error = errno;
  ::fcntl(fd, F_SETFL, flags);
  if (result == 0 || error != EINPROGRESS) {
    // EAGAIN: a Unix socket's listener has a full queue; libc's call waits.
    if (result != 0 && error == EAGAIN) return c().connect(fd, address, address_length);
    errno = error;
    return result;
  }
  switch (wait_for(hub, fd, kWritable, socket_deadline(fd, SO_SNDTIMEO), "connect")) {
    case Waited::ready:
    case Waited::unwatchable:
      break;
    case Waited::timed_out:
      return static_cast<int>(fail(EINPROGRESS));
    case Waited::closed:
      return static_cast<int>(fail(EBADF));
  }
  pollfd outcome{fd, POLLOUT, 0};
  c().poll(&outcome, 1, -1);  // returns at once unless the hub could not watch fd
  int failure = 0;
  socklen_t size = sizeof failure;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &failure, &size) != 0) return -1;
  if (failure != 0) return static_cast<int>(fail(failure));
  return 0;
}

int poll(Hub& hub, pollfd* fds, nfds_t count, const Deadline& deadline) {
  const int ready = c().poll(fds, count, 0);
  if (ready != 0) return ready;
  std::vector<FdInterest> interests;
  for (nfds_t i = 0; i < count; ++i) {
    const std::uint32_t events = poll_interest(fds[i].events);
    if (fds[i].fd >= 0 && events != 0) interests.push_back({fds[i].fd, events});
  }
  return wait_and_look(
      hub, interests, deadline, "poll", [&] { return c().poll(fds, count, 0); },
      [&](int ms) { return c().poll(fds, count, ms); });
}

int select(Hub& hub, int count, fd_set* readable, fd_set* writable, fd_set* exceptional,
           const Deadline& deadline, timeval* timeout) {
  fd_set* const sets[3] = {readable, writable, exceptional};
  fd_set asked[3] = {};
  for (int i = 0; i < 3; ++i)
    if (sets[i] != nullptr) asked[i] = *sets[i];
  const auto restore = [&] {
    for (int i = 0; i < 3; ++i)
      if (sets[i] != nullptr) *sets[i] = asked[i];
  };
  // Linux leaves the time not slept in the timeout.
  const auto report = [&](int result) {
    if (timeout != nullptr && deadline) {
      const auto left = std::max(*deadline - Clock::now(), Clock::duration::zero());
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
      timeout->tv_sec = static_cast<time_t>(micros / 1'000'000);
      timeout->tv_usec = static_cast<suseconds_t>(micros % 1'000'000);
    }
    return result;
  };
  const auto look = [&] {
    restore();
    timeval zero{};
    return c().select(count, readable, writable, exceptional, &zero);
  };
  const int ready = look();
  if (ready != 0) return report(ready);
  std::vector<FdInterest> interests;
  for (int fd = 0; fd < std::min(count, FD_SETSIZE); ++fd) {
    std::uint32_t events = 0;
    if (readable != nullptr && FD_ISSET(fd, &asked[0])) events |= kReadable;
    if (writable != nullptr && FD_ISSET(fd, &asked[1])) events |= kWritable;
    if (events != 0) interests.push_back({fd, events});
  }
  return report(wait_and_look(hub, interests, deadline, "select", look, [&](int ms) {
    restore();
    timeval limit{ms / 1000, (ms % 1000) * 1000};
    return c().select(count, readable, writable, exceptional, ms < 0 ? nullptr : &limit);
  }));
}

int close(int fd) {
  if (CloseOutcome* outcome = tls_loop_close) {
    outcome->result = c().close(fd);
    outcome->error = errno;
    return outcome->result;
  }
  Hub* hub = Hub::current_if_any();
  if (hub == nullptr || !green::detail::forget_fd(*hub, fd)) return c().close(fd);
  CloseOutcome outcome;
  tls_loop_close = &outcome;
  hub->loop().close(fd);
  tls_loop_close = nullptr;
  errno = outcome.error;
  return outcome.result;
}

int sleep_until(Clock::time_point deadline) {
  green::sleep(std::max(deadline - Clock::now(), Clock::duration::zero()));
  return 0;
}

Clock::time_point deadline_after(const timespec& ts) noexcept {
  // Longer waits are cut to about 30 years, which the clock can hold.
  constexpr time_t kLongest = 1'000'000'000;
  return Clock::now() + std::chrono::seconds(std::min(ts.tv_sec, kLongest)) +
         std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace weft::green::monkey::detail
