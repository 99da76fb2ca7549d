// The state behind Process and ProcessHandle, the per-process registry of
// children, and the pieces the parent and child sides of a start share.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "weft/detail/unique_function.hpp"
#include "weft/mp/process.hpp"

namespace weft::mp::detail {

struct ProcessState {
  enum class Kind { child, current, parent };

  explicit ProcessState(Kind k) : kind(k) {}
  ~ProcessState();
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;

  const Kind kind;
  mutable std::mutex mutex;
  std::string name;
  bool daemon = false;
  std::vector<std::uint32_t> identity;
  pid_t creator = 0;  // the process that made the object; only it may use the child
  pid_t pid = 0;
  int sentinel = -1;
  bool status_pipe = false;  // forkserver child: the sentinel is its status pipe
  bool starting = false;  // start() is launching the child
  bool started = false;
  bool closed = false;
  std::optional<int> exitcode;
};

// Who a child is: what the parent tells it before it runs anything.
struct ChildSpec {
  std::string name;
  std::vector<std::uint32_t> identity;
  bool daemon = false;
  pid_t parent_pid = 0;
  std::string parent_name;
  StartMethod method = StartMethod::fork;
};

// What a started child gives its parent.
struct Launched {
  pid_t pid = 0;
  int sentinel = -1;  // owned by the caller
  bool status_pipe = false;
};

// --- registry (process.cpp) -------------------------------------------

// The calling process's own state.
std::shared_ptr<ProcessState> current_state();
// Makes the calling process the child `spec` describes: its identity, an
// empty registry, no forkserver, the parent's start method.
void become_child(const ChildSpec& spec);
// Python's _exit_function: terminates the daemonic children, joins all.
void exit_function() noexcept;
// Flushes stdio and the standard iostreams.
void flush_std_streams() noexcept;

// --- start methods (context.cpp) --------------------------------------

// The global start method, fixed to the default on first use.
StartMethod global_start_method();
// Makes `method` the global one, as the child of a parent using it.
void force_start_method(StartMethod method) noexcept;

// --- launching (launch.cpp, forkserver.cpp) -----------------------------

// Runs `job`, which starts the child `spec` describes, on the calling
// thread, or, for a daemon started off the main thread, on a launcher
// thread that lives as long as the program: the parent-death signal fires
// when the thread that created the child exits.
Launched launch(const ChildSpec& spec, weft::detail::UniqueFunction<Launched()> job);

// Forks a child that runs `body` (after become_child(spec)); never returns
// in the child. Warns if other threads run.
Launched launch_fork(const ChildSpec& spec, weft::detail::UniqueFunction<void()>& body);
// Spawns /proc/self/exe with `payload` on a pipe and `fds` inherited.
Launched launch_spawn(std::string_view payload, const std::vector<int>& fds);
// Has the forkserver fork a child that reads `payload`, with `fds`.
Launched launch_forkserver(std::string_view payload, const std::vector<int>& fds);
// In a fork child: forget the parent's forkserver.
void forget_forkserver() noexcept;

// Runs `argv` with the environment plus `variable`, `inherited` kept open
// (the rest is close-on-exec). Returns the pid.
pid_t spawn_self(const std::string& variable, const std::vector<int>& inherited);

// Writes a payload to a child's channel: its length (a u64 in host order)
// and its bytes. The child reads exactly that much rather than up to the
// end of the stream, which a process forked meanwhile by another thread
// would hold open. A child that died early is left to report itself
// through its exit code.
void send_payload(int fd, std::string_view payload) noexcept;

// The encoding of a spawn or forkserver child's payload.
std::string encode_payload(const ChildSpec& spec, Rebuild rebuild, const std::string& args);

// --- the child side (bootstrap.cpp) -------------------------------------

// Runs the child: becomes `spec`, arms the parent-death signal of a daemon
// (`expected_parent` must still be the parent), runs `body`, and exits
// with its exit code.
[[noreturn]] void run_child(const ChildSpec& spec, pid_t expected_parent,
                            weft::detail::UniqueFunction<void()> body);
// Reads a payload from `payload_fd` (closing it), installs `fds` as the
// inherited descriptors while decoding, then run_child().
[[noreturn]] void run_encoded_child(int payload_fd, std::vector<int> fds, pid_t expected_parent);
// The forkserver's loop on `sock` (bootstrap of the server process).
[[noreturn]] void serve_forkserver(int sock);

// The environment variables that turn a run of the executable into a child.
inline constexpr const char* spawn_variable = "WEFT_MP_SPAWN";
inline constexpr const char* forkserver_variable = "WEFT_MP_FORKSERVER";
// The one that turns it into the resource tracker (resource_tracker.cpp).
inline constexpr const char* resource_tracker_variable = "WEFT_MP_RESOURCE_TRACKER";

// An exit code from a wait status: the code, or minus the signal.
int exitcode_from_status(int status) noexcept;

}  // namespace weft::mp::detail
