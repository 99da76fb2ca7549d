// The C library's own definitions of the calls monkey.cpp interposes,
// found with dlsym(RTLD_NEXT) on first use (the next definition after the
// program's: libc's, or a sanitizer's interceptor in front of it).
#pragma once

#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

namespace weft::green::monkey::libc {

struct Calls {
  decltype(&::read) read;
  decltype(&::readv) readv;
  decltype(&::write) write;
  decltype(&::writev) writev;
  decltype(&::recv) recv;
  decltype(&::recvfrom) recvfrom;
  decltype(&::recvmsg) recvmsg;
  decltype(&::send) send;
  decltype(&::sendto) sendto;
  decltype(&::sendmsg) sendmsg;
  decltype(&::accept) accept;
  decltype(&::accept4) accept4;
  decltype(&::connect) connect;
  decltype(&::poll) poll;
  decltype(&::ppoll) ppoll;
  decltype(&::select) select;
  decltype(&::sleep) sleep;
  decltype(&::usleep) usleep;
  decltype(&::nanosleep) nanosleep;
  decltype(&::clock_nanosleep) clock_nanosleep;
  decltype(&::close) close;
};

// Resolved once, on the first call from any thread. Aborts with a message
// naming the call if the C library lacks one.
const Calls& calls() noexcept;

}  // namespace weft::green::monkey::libc
