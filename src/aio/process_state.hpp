// src/aio/process_state.hpp — what a Process refers to: the child on its
// loop. Its pidfd is watched from the start, so the child is reaped as soon
// as it ends, and the tasks waiting for its exit are woken then; its pipes
// are streams over the parent's ends.
//
// Not thread-safe: the loop's thread only.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

#include "spawn.hpp"
#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/detail/wait_list.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/stream_writer.hpp"

namespace weft::aio::detail {

class ProcessState {
 public:
  // Takes the spawned child and its fds, even when it throws (the child is
  // then killed and reaped, the fds closed): std::system_error if a stream
  // or the watch cannot be set up.
  static CountedRef<ProcessState> open(EventLoop& loop, const Spawned& spawned, std::size_t limit);
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;

  void add_ref() noexcept { ++refs_; }
  // The last reference gone kills a child still running and reaps it.
  void release() noexcept {
    if (--refs_ == 0) delete this;
  }

  pid_t pid() const noexcept { return pid_; }
  const std::optional<int>& returncode() const noexcept { return returncode_; }
  WaitList& exit_waiters() noexcept { return exit_waiters_; }
  // Does nothing once the child is reaped; throws net::OSError if the OS
  // refuses.
  void send_signal(int signal);

  std::optional<StreamWriter> stdin_pipe;
  std::optional<StreamReader> stdout_pipe;
  std::optional<StreamReader> stderr_pipe;

 private:
  ProcessState(EventLoop& loop, const Spawned& spawned) noexcept;
  ~ProcessState();

  // Hands the parent's end of a pipe (if any) to a stream.
  template <class Stream>
  std::optional<Stream> take_pipe(int& fd, std::size_t limit);
  // The pidfd is readable: the child has ended.
  void reap() noexcept;
  // Stops watching the pidfd — no reap() after this, even if a readiness
  // report is under way — and closes it.
  void close_pidfd() noexcept;

  EventLoop& loop_;
  pid_t pid_;
  int pidfd_;     // -1 once reaped
  int stdin_fd_;  // pipe ends not yet handed to their streams
  int stdout_fd_;
  int stderr_fd_;
  std::optional<int> returncode_;
  WaitList exit_waiters_;
  std::uint32_t refs_ = 0;
};

}  // namespace weft::aio::detail
