// tools/weft/serve/stop_signal.hpp — how a server learns it should stop:
// SIGTERM or SIGINT (or request_stop()) set a flag and make an eventfd
// readable, so a model blocked in select, poll, epoll, io_uring or accept
// can wait on it beside its sockets.
#pragma once

#include <atomic>

namespace weft::tool {

class StopSignal {
 public:
  // Installs the SIGTERM/SIGINT handlers. One per process.
  StopSignal();
  ~StopSignal();
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  bool requested() const noexcept;
  // Readable once a stop was requested. Never drained.
  int fd() const noexcept;
  // Async-signal-safe.
  static void request_stop() noexcept;
};

}  // namespace weft::tool
