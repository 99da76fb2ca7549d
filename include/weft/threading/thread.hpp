// weft/threading/thread.hpp — weft::Thread and the thread registry, Python's
// threading.Thread, current_thread, main_thread, active_count, enumerate and
// excepthook.
//
// A Thread runs a target callable with bound arguments, or, when derived
// from, its overridden run(). Like Python's:
//   * it does nothing until start(); starting twice throws RuntimeError;
//   * `name` defaults to "Thread-N" and is also given to the OS thread
//     (truncated to the 15 bytes Linux allows, on a UTF-8 boundary);
//   * `daemon` defaults to the creating thread's flag (the main thread is
//     not a daemon). A non-daemon thread is joined when its Thread object is
//     destroyed, and any still running at exit() are joined then too; a
//     daemon thread is never waited for and dies with the process;
//   * an exception escaping the target goes to weft::excepthook (which
//     prints "Exception in thread NAME:" and the exception by default) and
//     ends the thread, never the process.
//
// A plain Thread runs its target without touching the Thread object again,
// so a daemon thread may outlive its object. A subclass's run() runs on the
// object itself, which must therefore outlive it: the base destructor joins
// a subclass thread even when it is a daemon, but by then the subclass's
// own members are already destroyed — join() before the object dies (for
// instance in the subclass's destructor) whenever run() may still be going.
//
// ThreadHandle is a copyable, shared view of a thread — the Python object
// current_thread() and enumerate() hand out — valid even after the thread or
// its Thread object is gone.
//
// After fork(), as in Python, the child has only the thread that forked:
// that thread is its main_thread() (keeping its name), active_count() is 1,
// and every other thread of the parent is over there (is_alive() false,
// join() returns at once, exit() does not wait for it).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/unique_function.hpp"

namespace weft {

namespace detail {
struct ThreadState;
struct ThreadAccess;
}

class ThreadHandle {
 public:
  // The thread's name (Python's Thread.name).
  std::string name() const;
  // Renames the thread. The OS name changes too when called from the thread
  // itself.
  void set_name(std::string name);
  bool daemon() const noexcept;
  // pthread identity, once started (Python's Thread.ident).
  std::optional<std::uint64_t> ident() const noexcept;
  // Kernel thread id, once started (Python's Thread.native_id). Blocks for
  // the few microseconds it takes a just-started thread to publish it.
  std::optional<std::int64_t> native_id() const;
  // True from start() until the target returns or throws.
  bool is_alive() const noexcept;

  // Blocks until the thread ends. Throws RuntimeError for a thread not yet
  // started or for the calling thread itself.
  void join() const;
  // Blocks at most `timeout`; returns true if the thread has ended.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return join_until(detail::deadline_after_clamped(timeout));
  }

  friend bool operator==(const ThreadHandle& a, const ThreadHandle& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class Thread;
  friend struct detail::ThreadAccess;
  friend ThreadHandle current_thread();
  friend ThreadHandle main_thread();
  friend std::vector<ThreadHandle> enumerate();
  explicit ThreadHandle(std::shared_ptr<detail::ThreadState> state) noexcept
      : state_(std::move(state)) {}
  bool join_until(const detail::Deadline& deadline) const;

  std::shared_ptr<detail::ThreadState> state_;
};

// Designated-initializer options: Thread({.name = "worker", .daemon = true}, f, x).
struct ThreadOptions {
  std::string name = {};            // empty: "Thread-N"
  std::optional<bool> daemon = {};  // empty: inherit the creating thread's flag
};

class Thread {
 public:
  // A thread whose run() a subclass overrides.
  Thread() : Thread(ThreadOptions{}) {}
  explicit Thread(ThreadOptions options);

  // A thread that calls target(args...) (arguments are copied or moved in,
  // as std::thread does).
  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
  explicit Thread(F&& target, Args&&... args)
      : Thread(ThreadOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}

  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
  Thread(ThreadOptions options, F&& target, Args&&... args) : Thread(std::move(options)) {
    target_ = [fn = std::forward<F>(target),
               bound = std::make_tuple(std::forward<Args>(args)...)]() mutable {
      std::apply(fn, std::move(bound));
    };
  }

  Thread(const Thread&) = delete;
  Thread& operator=(const Thread&) = delete;
  virtual ~Thread();

  // Starts the thread; returns without waiting for it to run. Throws
  // RuntimeError if called twice, std::system_error if the OS refuses.
  void start();

  // What the thread runs: the target by default. Override in a subclass.
  virtual void run();

  std::string name() const { return handle().name(); }
  void set_name(std::string name) { handle().set_name(std::move(name)); }
  bool daemon() const noexcept { return handle().daemon(); }
  // Throws RuntimeError once the thread has started.
  void set_daemon(bool daemon);
  std::optional<std::uint64_t> ident() const noexcept { return handle().ident(); }
  std::optional<std::int64_t> native_id() const { return handle().native_id(); }
  bool is_alive() const noexcept { return handle().is_alive(); }
  void join() const { handle().join(); }
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return handle().join(timeout);
  }

  ThreadHandle handle() const noexcept { return ThreadHandle(state_); }

 private:
  std::shared_ptr<detail::ThreadState> state_;
  detail::UniqueFunction<void()> target_;
};

// The handle of the calling thread. For a thread weft did not start (say, a
// std::thread), a "Dummy-N" daemon handle alive until that thread exits;
// from a thread_local destructor that runs after that, a new "Dummy-N"
// handle that is no longer alive.
ThreadHandle current_thread();
// The thread that started the program.
ThreadHandle main_thread();
// How many threads are alive: the main thread, weft threads started and not
// finished, and foreign threads that have called current_thread().
std::size_t active_count();
// Handles of those threads.
std::vector<ThreadHandle> enumerate();

// What weft::excepthook receives when an exception escapes a thread.
struct ExceptHookArgs {
  std::exception_ptr exc_value;
  std::string exc_type;  // demangled type name of the exception
  ThreadHandle thread;
};
using ExceptHook = std::function<void(const ExceptHookArgs&)>;

// Runs the installed hook (by default, default_excepthook).
void excepthook(const ExceptHookArgs& args);
// Prints "Exception in thread NAME:" then "TYPE: what()" to standard error.
void default_excepthook(const ExceptHookArgs& args);
// Installs a hook; returns the previous one. An empty hook restores the
// default. Thread-safe.
ExceptHook set_excepthook(ExceptHook hook);

}  // namespace weft
