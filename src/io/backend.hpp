// src/io/backend.hpp — what an io::Loop needs from an IO backend. One file
// per backend implements it: epoll_backend.cpp (readiness, the loop does
// the system calls) and uring_backend.cpp (completion, the kernel does).
#pragma once

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "op_queue.hpp"
#include "weft/errors.hpp"
#include "weft/io/buffer_pool.hpp"
#include "weft/io/operation.hpp"

namespace weft::io::detail {

class Backend {
 public:
  using Timeout = std::optional<std::chrono::nanoseconds>;  // none: wait for IO forever

  virtual ~Backend() = default;

  // Starts `op`, whose fields the loop has filled in and marked pending.
  virtual void start(Operation& op) = 0;
  // See Loop::cancel: the handler's final call comes later, never inside.
  virtual void cancel(Operation& op) noexcept = 0;
  // Cancels every operation on fd and forgets it; the caller closes it.
  virtual void forget(int fd) noexcept = 0;
  virtual std::unique_ptr<BufferPool> create_pool(std::uint16_t group, std::uint16_t count,
                                                  std::uint32_t size) = 0;
  // The poll phase: waits up to `timeout` for results and runs their
  // handlers, then delivers the results that were ready without waiting.
  virtual void poll(Timeout timeout) = 0;
  // The pending phase's share: results ready without waiting (a send that
  // went straight out, a cancellation).
  virtual void deliver_ready() = 0;
  virtual bool has_ready() const noexcept = 0;
  // Operations started and not yet finished.
  virtual std::size_t pending() const noexcept = 0;
  // Interrupts a wait in poll(). Thread-safe, async-signal-safe.
  virtual void wake() noexcept = 0;
  // Whether this is a child of fork() of the process that made the backend:
  // its epoll instance or ring is the parent's too, and must be left alone.
  virtual bool in_forked_child() const noexcept = 0;
  // Whether the loop may run on the calling thread, fork aside; asked as
  // each run() or run_forever() begins. Any thread will do unless the
  // backend says otherwise.
  virtual bool runs_on_this_thread() const noexcept { return true; }
};

// What a Loop used in a child of fork() throws.
[[noreturn]] inline void throw_in_forked_child() {
  throw RuntimeError(
      "io::Loop used in a child of fork(): it shares its epoll instance or io_uring with the parent; "
      "make a new Loop in the child");
}

// How many fork() calls made this process a child: counted from the first
// backend's creation on.
inline std::atomic<unsigned> forks_as_child{0};

// What both backends share: counting pending operations, delivering final
// results, the queue of results that were ready without waiting, and
// noticing a child of fork().
class BackendBase : public Backend {
 public:
  BackendBase() {
    static const int counting = ::pthread_atfork(nullptr, nullptr, [] {
      forks_as_child.fetch_add(1, std::memory_order_relaxed);
    });
    (void)counting;
    forks_ = forks_as_child.load(std::memory_order_relaxed);
  }

  bool in_forked_child() const noexcept final { return forks_as_child.load(std::memory_order_relaxed) != forks_; }

  void deliver_ready() final {
    // One round: results queued by the handlers run here wait for the next.
    OpQueue round = ready_.take();
    while (Operation* op = round.pop_front()) finish(*op, op->done_result_);
  }
  bool has_ready() const noexcept final { return !ready_.empty(); }
  std::size_t pending() const noexcept final { return pending_; }

 protected:
  void started(Operation& op) noexcept {
    op.pending_ = true;
    op.cancelling_ = false;
    ++pending_;
  }
  // Throws RuntimeError in a child of fork(): see in_forked_child.
  void check_process() const {
    if (in_forked_child()) throw_in_forked_child();
  }
  // Delivers the final result of `op` now.
  void finish(Operation& op, int result, std::uint32_t flags = 0) noexcept {
    op.pending_ = false;
    --pending_;
    op.complete(result, flags);
  }
  // Delivers the final result of `op` in the next deliver_ready().
  void finish_later(Operation& op, int result) noexcept {
    op.done_result_ = result;
    ready_.push_back(op);
  }

 private:
  OpQueue ready_;
  std::size_t pending_ = 0;
  unsigned forks_ = 0;  // forks_as_child when the backend was made
};

std::unique_ptr<Backend> make_epoll_backend();
// Null if io_uring cannot be set up here. See LoopOptions for batch and
// batch_wait.
std::unique_ptr<Backend> make_uring_backend(unsigned entries, unsigned batch,
                                            std::chrono::microseconds batch_wait);
bool uring_usable() noexcept;

}  // namespace weft::io::detail
