// monkey::patch_all and the calls it takes over (weft/green/monkey.hpp).
//
// Each hook below has its C library call's signature and forwards to libc's
// definition unless cooperative_hub() finds a hub to park on. patch_all()
// points the loaded objects' GOT slots for those calls at the hooks
// (monkey_got.cpp); nothing refers to this file but patch_all(), so only the
// programs that call it link the hooks.
#include "weft/green/monkey.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <type_traits>

#include "monkey_cooperative.hpp"
#include "monkey_got.hpp"
#include "monkey_libc.hpp"

namespace {

namespace cooperative = weft::green::monkey::detail;
using weft::green::Hub;

const weft::green::monkey::libc::Calls& libc() noexcept { return weft::green::monkey::libc::calls(); }

bool valid(const timespec& ts) noexcept { return ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1'000'000'000; }

bool is_zero(const timespec& ts) noexcept { return ts.tv_sec == 0 && ts.tv_nsec == 0; }

cooperative::Deadline deadline_after_ms(int timeout) {
  if (timeout < 0) return std::nullopt;
  return weft::detail::Clock::now() + std::chrono::milliseconds(timeout);
}

// The monotonic deadline of an absolute time on `clock`.
weft::detail::Clock::time_point deadline_at(clockid_t clock, const timespec& when) noexcept {
  timespec now{};
  ::clock_gettime(clock, &now);
  const auto left = std::chrono::seconds(when.tv_sec - now.tv_sec) + std::chrono::nanoseconds(when.tv_nsec - now.tv_nsec);
  return weft::detail::Clock::now() + std::max(std::chrono::duration_cast<std::chrono::nanoseconds>(left),
                                               std::chrono::nanoseconds::zero());
}

}  // namespace

// glibc's failure report for a fortified call given a too small buffer.
extern "C" [[noreturn]] void __chk_fail(void);

namespace {

ssize_t hook_read(int fd, void* buffer, size_t length) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::read(*hub, fd, buffer, length);
  return libc().read(fd, buffer, length);
}

ssize_t hook_read_chk(int fd, void* buffer, size_t length, size_t buffer_length) {
  if (length > buffer_length) __chk_fail();
  return hook_read(fd, buffer, length);
}

ssize_t hook_readv(int fd, const iovec* iov, int count) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::readv(*hub, fd, iov, count);
  return libc().readv(fd, iov, count);
}

ssize_t hook_write(int fd, const void* buffer, size_t length) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::write(*hub, fd, buffer, length);
  return libc().write(fd, buffer, length);
}

ssize_t hook_writev(int fd, const iovec* iov, int count) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::writev(*hub, fd, iov, count);
  return libc().writev(fd, iov, count);
}

ssize_t hook_recv(int fd, void* buffer, size_t length, int flags) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub())
      return cooperative::recvfrom(*hub, fd, buffer, length, flags, nullptr, nullptr);
  return libc().recv(fd, buffer, length, flags);
}

ssize_t hook_recv_chk(int fd, void* buffer, size_t length, size_t buffer_length, int flags) {
  if (length > buffer_length) __chk_fail();
  return hook_recv(fd, buffer, length, flags);
}

ssize_t hook_recvfrom(int fd, void* __restrict buffer, size_t length, int flags,
                                sockaddr* __restrict address, socklen_t* __restrict address_length) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub())
      return cooperative::recvfrom(*hub, fd, buffer, length, flags, address, address_length);
  return libc().recvfrom(fd, buffer, length, flags, address, address_length);
}

ssize_t hook_recvfrom_chk(int fd, void* __restrict buffer, size_t length, size_t buffer_length,
                                      int flags, sockaddr* __restrict address,
                                      socklen_t* __restrict address_length) {
  if (length > buffer_length) __chk_fail();
  return hook_recvfrom(fd, buffer, length, flags, address, address_length);
}

ssize_t hook_recvmsg(int fd, msghdr* message, int flags) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub()) return cooperative::recvmsg(*hub, fd, message, flags);
  return libc().recvmsg(fd, message, flags);
}

ssize_t hook_send(int fd, const void* buffer, size_t length, int flags) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub())
      return cooperative::sendto(*hub, fd, buffer, length, flags, nullptr, 0);
  return libc().send(fd, buffer, length, flags);
}

ssize_t hook_sendto(int fd, const void* buffer, size_t length, int flags, const sockaddr* address,
                              socklen_t address_length) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub())
      return cooperative::sendto(*hub, fd, buffer, length, flags, address, address_length);
  return libc().sendto(fd, buffer, length, flags, address, address_length);
}

ssize_t hook_sendmsg(int fd, const msghdr* message, int flags) {
  if ((flags & MSG_DONTWAIT) == 0)
    if (Hub* hub = cooperative::cooperative_hub()) return cooperative::sendmsg(*hub, fd, message, flags);
  return libc().sendmsg(fd, message, flags);
}

int hook_accept(int fd, sockaddr* __restrict address, socklen_t* __restrict address_length) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::accept4(*hub, fd, address, address_length, 0);
  return libc().accept(fd, address, address_length);
}

int hook_accept4(int fd, sockaddr* __restrict address, socklen_t* __restrict address_length, int flags) {
  if (Hub* hub = cooperative::cooperative_hub())
    return cooperative::accept4(*hub, fd, address, address_length, flags);
  return libc().accept4(fd, address, address_length, flags);
}

int hook_connect(int fd, const sockaddr* address, socklen_t address_length) {
  if (Hub* hub = cooperative::cooperative_hub()) return cooperative::connect(*hub, fd, address, address_length);
  return libc().connect(fd, address, address_length);
}

int hook_poll(pollfd* fds, nfds_t count, int timeout) {
  if (timeout != 0)
    if (Hub* hub = cooperative::cooperative_hub())
      return cooperative::poll(*hub, fds, count, deadline_after_ms(timeout));
  return libc().poll(fds, count, timeout);
}

int hook_poll_chk(pollfd* fds, nfds_t count, int timeout, size_t fds_length) {
  if (fds_length / sizeof(*fds) < count) __chk_fail();
  return hook_poll(fds, count, timeout);
}

int hook_ppoll(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask) {
  if (mask == nullptr && (timeout == nullptr || (valid(*timeout) && !is_zero(*timeout))))
    if (Hub* hub = cooperative::cooperative_hub()) {
      const cooperative::Deadline deadline =
          timeout != nullptr ? cooperative::Deadline(cooperative::deadline_after(*timeout)) : std::nullopt;
      return cooperative::poll(*hub, fds, count, deadline);
    }
  return libc().ppoll(fds, count, timeout, mask);
}

int hook_ppoll_chk(pollfd* fds, nfds_t count, const timespec* timeout, const sigset_t* mask,
                               size_t fds_length) {
  if (fds_length / sizeof(*fds) < count) __chk_fail();
  return hook_ppoll(fds, count, timeout, mask);
}

int hook_select(int count, fd_set* __restrict readable, fd_set* __restrict writable,
                          fd_set* __restrict exceptional, timeval* __restrict timeout) {
  const bool valid_timeout = timeout == nullptr || (timeout->tv_sec >= 0 && timeout->tv_usec >= 0 &&
                                                    timeout->tv_usec < 1'000'000);
  const bool zero_timeout = timeout != nullptr && timeout->tv_sec == 0 && timeout->tv_usec == 0;
  if (valid_timeout && !zero_timeout && count >= 0)
    if (Hub* hub = cooperative::cooperative_hub()) {
      cooperative::Deadline deadline;
      if (timeout != nullptr) {
        const timespec ts{timeout->tv_sec, timeout->tv_usec * 1000};
        deadline = cooperative::deadline_after(ts);
      }
      return cooperative::select(*hub, count, readable, writable, exceptional, deadline, timeout);
    }
  return libc().select(count, readable, writable, exceptional, timeout);
}

unsigned int hook_sleep(unsigned int seconds) {
  if (cooperative::cooperative_hub() != nullptr)
    return static_cast<unsigned int>(
        cooperative::sleep_until(weft::detail::Clock::now() + std::chrono::seconds(seconds)));
  return libc().sleep(seconds);
}

int hook_usleep(useconds_t microseconds) {
  if (cooperative::cooperative_hub() != nullptr)
    return cooperative::sleep_until(weft::detail::Clock::now() + std::chrono::microseconds(microseconds));
  return libc().usleep(microseconds);
}

int hook_nanosleep(const timespec* request, timespec* remaining) {
  if (request != nullptr && valid(*request) && cooperative::cooperative_hub() != nullptr)
    return cooperative::sleep_until(cooperative::deadline_after(*request));
  return libc().nanosleep(request, remaining);
}

int hook_clock_nanosleep(clockid_t clock, int flags, const timespec* request, timespec* remaining) {
  const bool known_clock = clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC || clock == CLOCK_BOOTTIME;
  if (known_clock && request != nullptr && valid(*request) && cooperative::cooperative_hub() != nullptr) {
    const bool absolute = (flags & TIMER_ABSTIME) != 0;
    return cooperative::sleep_until(absolute ? deadline_at(clock, *request) : cooperative::deadline_after(*request));
  }
  return libc().clock_nanosleep(clock, flags, request, remaining);
}

int hook_close(int fd) { return cooperative::close(fd); }

// A hook as the table installs it: `hook`, then, unless it failed, errno
// as the caller left it. libc's calls leave errno alone when they succeed,
// but the cooperative forms make attempts that fail on the way (EAGAIN from
// MSG_DONTWAIT, ENOTSOCK from a socket call on a pipe) and let the other
// greenlets run while they park; a caller that reads errno after a call
// that returned 0 (OpenSSL's socket BIO, at the end of a stream) must find
// what it would find with libc.
template <auto hook>
struct KeepsErrno;

template <class R>
bool failed(R result) noexcept {
  if constexpr (std::is_signed_v<R>) {
    return result < 0;
  } else {
    return false;  // sleep(): the seconds left
  }
}

template <class R, class... Args, R (*hook)(Args...)>
struct KeepsErrno<hook> {
  static R call(Args... args) {
    const int saved = errno;
    const R result = hook(args...);
    if (!failed(result)) errno = saved;
    return result;
  }
};

template <auto hook>
void* address() noexcept {
  return reinterpret_cast<void*>(&KeepsErrno<hook>::call);
}

const weft::green::monkey::got::Redirect kHooks[] = {
    {"read", address<&hook_read>()},
    {"__read_chk", address<&hook_read_chk>()},
    {"readv", address<&hook_readv>()},
    {"write", address<&hook_write>()},
    {"writev", address<&hook_writev>()},
    {"recv", address<&hook_recv>()},
    {"__recv_chk", address<&hook_recv_chk>()},
    {"recvfrom", address<&hook_recvfrom>()},
    {"__recvfrom_chk", address<&hook_recvfrom_chk>()},
    {"recvmsg", address<&hook_recvmsg>()},
    {"send", address<&hook_send>()},
    {"sendto", address<&hook_sendto>()},
    {"sendmsg", address<&hook_sendmsg>()},
    {"accept", address<&hook_accept>()},
    {"accept4", address<&hook_accept4>()},
    {"connect", address<&hook_connect>()},
    {"poll", address<&hook_poll>()},
    {"__poll_chk", address<&hook_poll_chk>()},
    {"ppoll", address<&hook_ppoll>()},
    {"__ppoll_chk", address<&hook_ppoll_chk>()},
    {"select", address<&hook_select>()},
    {"sleep", address<&hook_sleep>()},
    {"usleep", address<&hook_usleep>()},
    {"nanosleep", address<&hook_nanosleep>()},
    {"clock_nanosleep", address<&hook_clock_nanosleep>()},
    {"close", address<&hook_close>()},
};

}  // namespace

namespace weft::green::monkey {

void patch_all() noexcept {
  libc::calls();  // resolved before any call is redirected
  got::redirect(kHooks);
  detail::patched.store(true, std::memory_order_relaxed);
}

void unpatch_all() noexcept { detail::patched.store(false, std::memory_order_relaxed); }

bool is_patched() noexcept { return detail::patched.load(std::memory_order_relaxed); }

}  // namespace weft::green::monkey
