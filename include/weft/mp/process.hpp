// weft/mp/process.hpp — weft::mp::Process and the process registry,
// Python's multiprocessing.Process, current_process, parent_process and
// active_children.
//
// A Process runs a target callable with bound arguments, or, when derived
// from, its overridden run(), in a child process. Like Python's:
//   * it does nothing until start(); starting twice throws RuntimeError;
//   * `name` defaults to "Process-N", and to "Process-1:N" in a child whose
//     own name is Process-1 (the identity is the chain of counters);
//   * `daemon` defaults to the creating process's flag. A daemonic process
//     may not create children (RuntimeError "daemonic processes are not
//     allowed to have children");
//   * exitcode() is empty until the child has ended and been joined or
//     polled, then 0, the code of SystemExit, 1 if an exception escaped the
//     target (after "Process NAME:" and the exception on standard error),
//     or minus the signal number that killed it (-15 after terminate(),
//     -9 after kill());
//   * at normal exit of the program (std::exit, return from main) daemonic
//     children still running are terminated and every child is joined.
//
// Start methods (see weft/mp/context.hpp for choosing one):
//   fork        the child is a copy of the parent: any callable works — a
//               lambda with captures, a std::function, a subclass's run() —
//               and arguments are copied by the fork. Forking while other
//               threads run prints Python 3.12's DeprecationWarning, since
//               a lock held by another thread stays held in the child.
//   spawn       the child is a new run of the same executable
//               (/proc/self/exe, same argv). The target must be a function
//               reference (a free function or a captureless lambda, see
//               weft/codec/function.hpp) and the arguments codec-encodable;
//               objects owning descriptors (Connections, Queues, Locks,
//               shared blocks) travel through weft/mp/detail/fd_sharing.hpp.
//   forkserver  like spawn, but the child is forked from a single-threaded
//               server process, itself spawned on first use, that exits when
//               the program does.
// A target with captures, or a subclass overriding run(), can only start
// with fork: start() throws ValueError for the other methods, and typed
// contexts (mp::get_context<StartMethod::spawn>()) refuse it at compile
// time. A function reference with arguments is encoded whatever the method,
// so its arguments must be codec-encodable even under fork; wrap anything
// else in a lambda.
//
// The spawn caveat. A spawned child never enters main(): its bootstrap runs
// from a static constructor in libweft, after the static initialisers of
// the program's own objects (the program is linked before libweft), like
// Python re-importing __main__ without running its `if __name__ ==
// "__main__"` block. So whatever main() sets up before starting a process —
// parsed options, a global assigned at run time, a logger configured — is
// not set up in a spawn or forkserver child; pass it as an argument. (If
// libweft is a shared library its constructors run before the program's:
// then even the program's static initialisers have not run in the child.)
// The child ends with _exit after flushing stdio and iostreams: static
// destructors and std::atexit handlers do not run in any child, as
// Python's children end with os._exit.
//
// Daemonic children die with their parent even when it is SIGKILLed: they
// ask for SIGKILL on the death of the thread that started them
// (PR_SET_PDEATHSIG), and a daemon Process is therefore started from the
// main thread or, when start() is called on another thread, from a
// launcher thread that lives as long as the program. A forkserver child's
// parent is the server, which exits when the program does.
//
// RAII: destroying a started Process joins it, after terminate() if it is
// daemonic. The child's descriptors (its sentinel) are closed then, or by
// close().
//
// Child output: the parent flushes stdio and the standard iostreams before
// starting a child, so nothing buffered is written twice, and the child
// flushes them before it exits. The child's standard input is /dev/null.
//
// ProcessHandle is a copyable, shared view of a process — what
// current_process(), parent_process() and active_children() hand out.
//
// Thread-safety: every member may be called from any thread of the process
// that created the Process. Only that process may start, join, poll or
// signal it (RuntimeError otherwise, as Python asserts).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/codec.hpp"
#include "weft/codec/function.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/unique_function.hpp"
#include "weft/mp/errors.hpp"

namespace weft::mp {

// How a child process is started. Python names them "fork", "spawn" and
// "forkserver".
enum class StartMethod { fork, spawn, forkserver };

// Thrown from a target (or anything it calls) to end the child with
// `code`, as Python's sys.exit(code). Not a std::exception, as Python's
// SystemExit is not an Exception.
struct SystemExit {
  int code = 0;
};

namespace detail {
struct ProcessState;
void exit_function() noexcept;

// Rebuilds, in a spawn or forkserver child, the target a parent encoded.
using Rebuild = weft::detail::UniqueFunction<void()> (*)(std::string_view);

template <class Fn, class... Args>
weft::detail::UniqueFunction<void()> rebuild_target(std::string_view bytes) {
  auto decoded = codec::decode<std::tuple<Fn, std::tuple<Args...>>>(bytes);
  return [fn = std::get<0>(decoded), args = std::move(std::get<1>(decoded))]() mutable {
    std::apply(fn, std::move(args));
  };
}

// What Context::Process passes to pin a Process to a start method.
struct WithMethod {
  StartMethod method;
};
}  // namespace detail

class ProcessHandle {
 public:
  // The process's name (Python's Process.name).
  std::string name() const;
  void set_name(std::string name);
  bool daemon() const noexcept;
  // The OS process id, once started (Python's pid and ident). For
  // current_process(), getpid().
  std::optional<pid_t> pid() const noexcept;
  std::optional<pid_t> ident() const noexcept { return pid(); }
  // Empty while not started or running; see the top of this file. Polls the
  // child without blocking. Throws ValueError once closed.
  std::optional<int> exitcode() const;
  // True from start() until the child ends (polls it). True for
  // current_process(). Throws ValueError once closed.
  bool is_alive() const;
  // Blocks until the process ends. Throws RuntimeError for a process not
  // started, not a child of the caller, or the caller itself; ValueError
  // once closed.
  void join() const;
  // Blocks at most `timeout`; returns true if the process has ended.
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return join_until(weft::detail::deadline_after_clamped(timeout));
  }
  // SIGTERM / SIGKILL to a started child; nothing once it has ended. Throws
  // RuntimeError for a process that is not a started child of the caller,
  // ValueError once closed.
  void terminate() const;
  void kill() const;
  // A descriptor that polls readable once the process has ended: a pidfd
  // for fork and spawn children and for parent_process(), the status pipe
  // of a forkserver child. Owned by the process object. Throws ValueError
  // if not started or closed.
  int sentinel() const;

  friend bool operator==(const ProcessHandle& a, const ProcessHandle& b) noexcept {
    return a.state_ == b.state_;
  }

 private:
  friend class Process;
  friend ProcessHandle current_process();
  friend std::optional<ProcessHandle> parent_process();
  friend std::vector<ProcessHandle> active_children();
  friend void detail::exit_function() noexcept;
  explicit ProcessHandle(std::shared_ptr<detail::ProcessState> state) noexcept
      : state_(std::move(state)) {}
  bool join_until(const weft::detail::Deadline& deadline) const;

  std::shared_ptr<detail::ProcessState> state_;
};

// Designated-initializer options: Process({.name = "worker", .daemon = true}, f, x).
struct ProcessOptions {
  std::string name = {};            // empty: "Process-N" (see above)
  std::optional<bool> daemon = {};  // empty: the creating process's flag
};

class Process {
 public:
  // A process whose run() a subclass overrides (fork start method only).
  Process() : Process(ProcessOptions{}) {}
  explicit Process(ProcessOptions options);

  // A process that calls target(args...). A function reference's arguments
  // are encoded for spawn and forkserver (see the top of this file).
  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
  explicit Process(F&& target, Args&&... args)
      : Process(ProcessOptions{}, std::forward<F>(target), std::forward<Args>(args)...) {}

  template <class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
  Process(ProcessOptions options, F&& target, Args&&... args) : Process(std::move(options)) {
    set_target(std::forward<F>(target), std::forward<Args>(args)...);
  }

  // A process pinned to a start method (what Context::Process makes).
  template <class... A>
  Process(detail::WithMethod method, A&&... a) : Process(std::forward<A>(a)...) {
    method_ = method.method;
  }

  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // Moves a Process (started or not) so that it can live in a container;
  // the moved-from object may only be destroyed. Do not move a subclass
  // through a base reference: its run() would be sliced off.
  Process(Process&& other) noexcept = default;
  virtual ~Process();

  // Starts the child; returns once it exists (its pid is known), without
  // waiting for it to run. Then, as Python does, the parent drops its copy
  // of the target and its arguments: a Connection handed to the child is
  // closed here, so the parent sees EOFError once the child closes its own.
  // A manager proxy is released here too: keep a copy of it until the
  // child has taken its own reference (see weft/mp/manager/proxy.hpp).
  // Throws RuntimeError if called twice, from a
  // daemonic process, or from another process than the creator; ValueError
  // if closed, or for a target the start method cannot carry;
  // codec::EncodeError for arguments that cannot be encoded;
  // std::system_error if the OS refuses.
  void start();

  // What the child runs: the target by default. Override in a subclass
  // (fork start method only).
  virtual void run();

  // Releases the sentinel and forgets the child (it is no longer among
  // active_children(), joined or not). Throws ValueError if the child is
  // still running ("Cannot close a process while it is still running..."),
  // or is being started by another thread's start(). Afterwards most calls throw ValueError "process object is closed".
  void close();

  std::string name() const { return handle().name(); }
  void set_name(std::string name) { handle().set_name(std::move(name)); }
  bool daemon() const noexcept { return handle().daemon(); }
  // Throws RuntimeError once the process has started.
  void set_daemon(bool daemon);
  std::optional<pid_t> pid() const noexcept { return handle().pid(); }
  std::optional<pid_t> ident() const noexcept { return handle().ident(); }
  std::optional<int> exitcode() const { return handle().exitcode(); }
  bool is_alive() const { return handle().is_alive(); }
  void join() const { handle().join(); }
  template <class Rep, class Period>
  bool join(std::chrono::duration<Rep, Period> timeout) const {
    return handle().join(timeout);
  }
  void terminate() const { handle().terminate(); }
  void kill() const { handle().kill(); }
  int sentinel() const { return handle().sentinel(); }

  ProcessHandle handle() const noexcept { return ProcessHandle(state_); }

 private:
  template <class F, class... Args>
  void set_target(F&& target, Args&&... args) {
    if constexpr (codec::FunctionReference<F>) {
      set_reference_target(codec::function_pointer(target), std::forward<Args>(args)...);
    } else {
      auto bound = std::make_tuple(std::forward<Args>(args)...);
      target_ = [fn = std::forward<F>(target), bound = std::move(bound)]() mutable {
        std::apply(fn, std::move(bound));
      };
    }
  }

  // The arguments are stored (and encoded) as the function's parameter
  // types, so that "text" for a std::string parameter travels as a string.
  // (A noexcept function converts to this pointer type.)
  template <class R, class... P, class... Args>
  void set_reference_target(R (*fn)(P...), Args&&... args) {
    using Fn = R (*)(P...);
    static_assert(sizeof...(P) == sizeof...(Args), "wrong number of arguments for the target");
    auto bound = std::make_shared<std::tuple<std::decay_t<P>...>>(std::forward<Args>(args)...);
    target_ = [fn, bound] { std::apply(fn, std::move(*bound)); };
    encode_ = [fn, bound] { return codec::encode(std::forward_as_tuple(fn, *bound)); };
    rebuild_ = &detail::rebuild_target<Fn, std::decay_t<P>...>;
  }

  std::shared_ptr<detail::ProcessState> state_;
  weft::detail::UniqueFunction<void()> target_;
  weft::detail::UniqueFunction<std::string()> encode_;  // empty: fork only
  detail::Rebuild rebuild_ = nullptr;
  std::optional<StartMethod> method_;
};

// The calling process: "MainProcess" in the program, its name in a child.
ProcessHandle current_process();
// The process that started the calling one; empty in the main process. Its
// sentinel (a pidfd) polls readable when it exits; join(timeout) waits for
// that.
std::optional<ProcessHandle> parent_process();
// The children started by this process that are still alive; reaps (and
// forgets) those that have ended.
std::vector<ProcessHandle> active_children();

}  // namespace weft::mp
