// pidfd_open and pidfd_send_signal through syscall(2): glibc 2.36's
// <sys/pidfd.h> declares them without C linkage for C++.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace weft::mp::detail {

inline int sys_pidfd_open(pid_t pid) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

inline int sys_pidfd_send_signal(int pidfd, int signal) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

}  // namespace weft::mp::detail
