// Resolving the C library's definitions of the interposed calls.
#include "monkey_libc.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace weft::green::monkey::libc {
namespace {

template <class F>
void resolve(F& slot, const char* name) noexcept {
  void* found = ::dlsym(RTLD_NEXT, name);
  if (found == nullptr) {
    std::fprintf(stderr, "weft: monkey patching cannot find the C library's %s\n", name);
    std::abort();
  }
  slot = reinterpret_cast<F>(found);
}

Calls resolve_all() noexcept {
  Calls c{};
  resolve(c.read, "read");
  resolve(c.readv, "readv");
  resolve(c.write, "write");
  resolve(c.writev, "writev");
  resolve(c.recv, "recv");
  resolve(c.recvfrom, "recvfrom");
  resolve(c.recvmsg, "recvmsg");
  resolve(c.send, "send");
  resolve(c.sendto, "sendto");
  resolve(c.sendmsg, "sendmsg");
  resolve(c.accept, "accept");
  resolve(c.accept4, "accept4");
  resolve(c.connect, "connect");
  resolve(c.poll, "poll");
  resolve(c.ppoll, "ppoll");
  resolve(c.select, "select");
  resolve(c.sleep, "sleep");
  resolve(c.usleep, "usleep");
  resolve(c.nanosleep, "nanosleep");
  resolve(c.clock_nanosleep, "clock_nanosleep");
  resolve(c.close, "close");
  return c;
}

}  // namespace

const Calls& calls() noexcept {
  static const Calls resolved = resolve_all();
  return resolved;
}

}  // namespace weft::green::monkey::libc
