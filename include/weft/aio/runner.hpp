// weft/aio/runner.hpp — asyncio.run and asyncio.Runner: the entry points
// that turn a coroutine into a program.
//
// run(coro) creates a new event loop, runs `coro` as its main task until it
// is done, cancels the tasks still unfinished and lets them end, shuts the
// default executor down, closes the loop, and returns the main task's value
// (or throws its exception). Blocks. Throws RuntimeError when called from a
// thread whose loop is running.
//
// Runner keeps one loop for several run() calls (Python 3.11's
// asyncio.Runner); close() — or the destructor — does the epilogue above.
// A Runner belongs to the thread that uses it.
#pragma once

#include <memory>
#include <optional>
#include <utility>

#include "weft/aio/event_loop.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

class Runner {
 public:
  explicit Runner(io::LoopOptions options = {}) : options_(options) {}
  ~Runner() { close(); }
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Runs `coro` to completion on this runner's loop. Blocks. Throws what the
  // coroutine throws; RuntimeError if a loop already runs on this thread or
  // the runner is closed.
  template <class T>
  T run(Task<T> coro) {
    if (running_loop_or_null() != nullptr)
      throw RuntimeError("Runner.run() cannot be called from a running event loop");
    return get_loop().run_until_complete(std::move(coro));
  }
  // The loop, created on first use. Throws RuntimeError once closed.
  EventLoop& get_loop();
  // Cancels what is left, closes the loop. Idempotent.
  void close();

 private:
  io::LoopOptions options_;
  std::unique_ptr<EventLoop> loop_;
  bool closed_ = false;
};

template <class T>
T run(Task<T> coro, io::LoopOptions options = {}) {
  Runner runner(options);
  return runner.run(std::move(coro));
}

}  // namespace weft::aio
