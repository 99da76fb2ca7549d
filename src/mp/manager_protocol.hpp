// The wire of a manager: one request and one reply per Connection frame,
// each a MessagePack array.
//   request  [op, id, name, args]   args: the encoded argument tuple
//   reply    [ok, body]             body: the encoded result, or (not ok)
//                                   the encoded detail::EncodedException
// A local call connection may carry the same frames through shared memory
// instead (see manager_channel.hpp).
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>

#include "weft/codec.hpp"
#include "weft/detail/futex.hpp"

namespace weft::mp::manager::detail {

enum class Op : std::uint8_t {
  create = 1,  // name: typeid; args: constructor arguments -> the new id
  call = 2,    // id, name: method, args
  incref = 3,  // id
  decref = 4,  // id
  shutdown = 5,
  ping = 6,    // checks the connection (BaseManager::connect)
  count = 7,   // -> how many objects the server holds
  upgrade = 8, // then the descriptor of a call channel (see manager_channel.hpp)
};

struct Request {
  Op op = Op::call;
  std::uint64_t id = 0;
  std::string name;
  std::string args;
  WEFT_CODEC(op, id, name, args)
};

struct Reply {
  bool ok = true;
  std::string body;
  WEFT_CODEC(ok, body)
};

// Waits for something a peer sends — input on a socket, a word in shared
// memory — by checking it without blocking for a while before the caller's
// blocking wait, so that a reply or request that follows within
// microseconds costs no sleep and wake-up (tens of microseconds on a VM).
// Adaptive: a spin that found nothing halves the budget, one that found it
// restores it, and with no budget left it tries again every 64th wait — so
// that on a loaded machine, where the peer needs the CPU the spinner burns,
// it stops spinning.
class Spinner {
 public:
  static constexpr std::chrono::nanoseconds kMax = std::chrono::microseconds(50);

  // Checks `ready()` until it returns true (then returns true) or the
  // budget is spent (then false).
  template <class Ready>
  bool spin(Ready ready) noexcept {
    auto budget = budget_;
    if (budget.count() == 0 && (++idle_waits_ & 63) == 0) budget = kMax;
    if (budget.count() == 0) return false;
    const auto until = std::chrono::steady_clock::now() + budget;
    do {
      if (ready()) {
        budget_ = kMax;
        return true;
      }
      weft::detail::cpu_relax();
    } while (std::chrono::steady_clock::now() < until);
    budget_ = budget / 2 < std::chrono::microseconds(2) ? std::chrono::nanoseconds(0) : budget / 2;
    return false;
  }

  void wait_for_input(int fd) noexcept {
    spin([fd] {
      char byte;
      const ssize_t got = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      return got >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    });
  }

 private:
  std::chrono::nanoseconds budget_ = kMax;
  unsigned idle_waits_ = 0;
};

}  // namespace weft::mp::manager::detail
