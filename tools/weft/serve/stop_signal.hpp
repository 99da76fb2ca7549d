// tools/weft/serve/stop_signal.hpp — how a server learns it should stop:
// SIGTERM or SIGINT (or request_stop()) set a flag and make an eventfd
// readable, so a model blocked in select, poll, epoll, io_uring or accept
// can wait on it beside its sockets. The eventfd and the handlers are the
// process's own: a child forked with fork_child() shares neither.
#pragma once

#include <sys/types.h>

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

  // fork() for a child that must not stop this process: the child closes
  // its copy of fd() and gives SIGTERM and SIGINT their default action back
  // (they end it, as they end any process), and holds them until it has, so
  // none reaches the parent's stop. A child that should stop the way a
  // server does constructs a StopSignal of its own. Returns what fork()
  // returns (-1 with errno set). Never throws.
  static pid_t fork_child() noexcept;
};

}  // namespace weft::tool
