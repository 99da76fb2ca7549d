// weft/aio/subprocess.hpp — asyncio subprocesses: create_subprocess_exec,
// create_subprocess_shell, and the Process they return.
//
//   aio::SubprocessOptions options{.stdin_ = aio::PIPE, .stdout_ = aio::PIPE};
//   aio::Process proc = co_await aio::create_subprocess_exec("grep", "-c", "x", options);
//   auto [out, err] = co_await proc.communicate("x\ny\nx\n");   // out == "2\n"
//   int code = co_await proc.wait();                            // 0
//
// The options are a named variable, not a temporary in the co_await
// expression: inside a try whose catch takes the exception thrown, GCC 12
// frees such a temporary twice (a GCC bug with coroutine temporaries).
//
// The child is started with posix_spawn (a vfork-style clone: nothing of
// the parent is copied, however large it is), with every descriptor but its
// three standard streams closed (Python's close_fds=True) and SIGPIPE and
// SIGXFSZ back at their defaults. Its exit is watched through a pidfd on
// the loop — no SIGCHLD handler, nothing shared with other loops or
// threads — and the child is reaped as soon as it exits, whether or not
// anyone waits: returncode() is then set.
//
// Standard streams (the stdin_, stdout_, stderr_ options; the trailing
// underscore keeps clear of the C macros): inherited by default (Python's
// None), or PIPE, DEVNULL, STDOUT (stderr only: into the stdout stream) or
// Stdio::file(fd) (an open descriptor of this process, duplicated for the
// child). A PIPE appears as stdin_() (a StreamWriter) or stdout_() /
// stderr_() (StreamReaders with the options' limit), with every method
// and rule of weft/aio/stream_reader.hpp and stream_writer.hpp. The pipes
// are AF_UNIX socket pairs, as libuv (Node.js) makes them: the child reads,
// writes, sees the end of its input and gets SIGPIPE as with a pipe, but it
// cannot reopen them by path (/dev/stdin); the parent never gets SIGPIPE.
//
// Copies of a Process refer to the same child, as Python objects do. When
// the last one is gone and the child still runs, it is killed (SIGKILL) and
// reaped at once — the moment the kernel takes to end it — as asyncio's
// transport does when it is closed: nothing is left running or unreaped.
//
// Not thread-safe: a Process belongs to its loop's thread and must not
// outlive that loop.
#pragma once

#include <sys/types.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "weft/aio/detail/counted_ref.hpp"
#include "weft/aio/stream_reader.hpp"
#include "weft/aio/stream_writer.hpp"
#include "weft/aio/task.hpp"

namespace weft::aio {

// Where one of the child's standard streams goes.
class Stdio {
 public:
  enum class Kind : std::uint8_t { inherit, pipe, devnull, stdout_, file };

  // Inherited from this process (Python's None).
  constexpr Stdio() noexcept = default;
  // An open descriptor of this process, duplicated for the child; it stays
  // open here.
  static constexpr Stdio file(int fd) noexcept { return Stdio(Kind::file, fd); }
  static constexpr Stdio of(Kind kind) noexcept { return Stdio(kind, -1); }

  constexpr Kind kind() const noexcept { return kind_; }
  constexpr int fd() const noexcept { return fd_; }

 private:
  constexpr Stdio(Kind kind, int fd) noexcept : kind_(kind), fd_(fd) {}
  Kind kind_ = Kind::inherit;
  int fd_ = -1;
};

// asyncio.subprocess.PIPE, DEVNULL and STDOUT.
inline constexpr Stdio PIPE = Stdio::of(Stdio::Kind::pipe);
inline constexpr Stdio DEVNULL = Stdio::of(Stdio::Kind::devnull);
inline constexpr Stdio STDOUT = Stdio::of(Stdio::Kind::stdout_);

struct SubprocessOptions {
  Stdio stdin_ = {};
  Stdio stdout_ = {};
  Stdio stderr_ = {};
  // The child's working directory; this process's when unset.
  std::optional<std::string> cwd = std::nullopt;
  // The child's whole environment; this process's when unset.
  std::optional<std::map<std::string, std::string>> env = std::nullopt;
  // Runs the child in a new session (setsid), away from this terminal's
  // signals.
  bool start_new_session = false;
  // The buffer limit of the stdout_() and stderr_() readers; not 0.
  std::size_t limit = kDefaultStreamLimit;
};

namespace detail {
class ProcessState;
void counted_add_ref(ProcessState* process) noexcept;
void counted_release(ProcessState* process) noexcept;
}  // namespace detail

class Process {
 public:
  // Refers to no process; may only be assigned to.
  Process() noexcept = default;
  explicit Process(detail::CountedRef<detail::ProcessState> state) noexcept : state_(std::move(state)) {}

  pid_t pid() const noexcept;
  // The exit status once the loop has seen the child end: its exit code, or
  // -N if signal N killed it (Python's convention); nullopt while it runs.
  std::optional<int> returncode() const noexcept;

  // The child's stdin, stdout and stderr when they are PIPEs, else null.
  // Valid as long as this Process (or a copy) lives.
  StreamWriter* stdin_() const noexcept;
  StreamReader* stdout_() const noexcept;
  StreamReader* stderr_() const noexcept;

  // Waits for the child to end and returns returncode(). Suspends; at once
  // if it has ended. Throws CancelledError if the task is cancelled (the
  // child goes on). Any number of tasks may wait. With stdout_ or stderr_
  // a PIPE, a child that writes more than the readers buffer blocks until
  // they are read: read them, or use communicate().
  Task<int> wait();

  // Writes `input` to stdin (if it is a PIPE) and closes it, reads stdout
  // and stderr (those that are PIPEs) to their end, all at once, then waits
  // for the child to end; returns (stdout, stderr) — "" for a stream that
  // is not a PIPE. A child that stops reading its input early is not an
  // error (BrokenPipeError and ConnectionResetError are ignored, as in
  // Python). Suspends. Throws CancelledError if the task is cancelled (what
  // was read is lost; the child goes on), or a stream's error.
  Task<std::pair<std::string, std::string>> communicate(std::string input = {});

  // Sends `signal` to the child; does nothing once it has been reaped.
  // Never blocks. Throws net::OSError if the OS refuses.
  void send_signal(int signal);
  // send_signal(SIGTERM) and send_signal(SIGKILL).
  void terminate();
  void kill();

  explicit operator bool() const noexcept { return static_cast<bool>(state_); }

 private:
  detail::CountedRef<detail::ProcessState> state_;
};

// Starts `program` — a path, or a name searched in PATH: options.env's
// when it is given (/bin:/usr/bin if it has no PATH, as Python's
// os.get_exec_path(env)), else this process's — with arguments `args`
// (argv is {program, args...}) and returns its Process. The search follows
// Python's rules: each entry is tried until one runs, one that fails with
// ENOENT or ENOTDIR (missing, or its #! interpreter is) is passed over, and
// the first other error (EACCES, ENOEXEC, ...) is the one raised if none
// runs. Must be awaited inside a task; does not suspend. Throws, as Python
// does, net::FileNotFoundError (a std::system_error with ENOENT) if there
// is no such program, net::PermissionError if it may not be executed,
// another net::OSError if the OS refuses — naming the program, or
// options.cwd if the child cannot enter that directory (FileNotFoundError,
// or OSError with ENOTDIR for a file; checked first, as in Python);
// ValueError for STDOUT as stdin_ or stdout_, ValueError("Limit cannot be
// <= 0") for a limit of 0 (before any child is started).
Task<Process> create_subprocess_exec(std::string program, std::vector<std::string> args = {},
                                     SubprocessOptions options = {});

namespace detail {
template <class A>
concept ExecArgument = std::convertible_to<A, std::string_view>;
template <class A>
concept ExecOptions = std::same_as<std::remove_cvref_t<A>, SubprocessOptions>;

template <class... Args>
constexpr bool options_come_last() {
  constexpr bool options[] = {ExecOptions<Args>...};
  for (std::size_t i = 0; i + 1 < sizeof...(Args); ++i)
    if (options[i]) return false;
  return true;
}
}  // namespace detail

// The same with the arguments one by one and the options, if any, last —
// Python's create_subprocess_exec(program, *args, **options):
//
//   aio::SubprocessOptions options{.stdin_ = aio::PIPE};
//   co_await aio::create_subprocess_exec("grep", "-c", "x", options);
//
// (GCC 12 cannot compile a braced list such as {"-c", "x"} inside a
// co_await expression; this form needs none.)
template <class... Args>
  requires(sizeof...(Args) > 0 && ((detail::ExecArgument<Args> || detail::ExecOptions<Args>) && ...) &&
           detail::options_come_last<Args...>())
Task<Process> create_subprocess_exec(std::string program, Args&&... args) {
  std::vector<std::string> argv;
  SubprocessOptions options;
  auto take = [&]<class A>(A&& arg) {
    if constexpr (detail::ExecOptions<A>) options = std::forward<A>(arg);
    else argv.emplace_back(std::string_view(arg));
  };
  (take(std::forward<Args>(args)), ...);
  return create_subprocess_exec(std::move(program), std::move(argv), std::move(options));
}

// Runs `command` through /bin/sh -c.
Task<Process> create_subprocess_shell(std::string command, SubprocessOptions options = {});

}  // namespace weft::aio
