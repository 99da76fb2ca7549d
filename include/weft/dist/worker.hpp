// weft/dist/worker.hpp — a worker: takes tasks of one queue from Redis and
// runs the functions this executable registered (weft/dist/registry.hpp).
//
// `weft worker --redis URL --queue NAME --concurrency N ./app` starts N
// processes of ./app as workers and replaces any that dies: a run of an
// executable linked with weft::dist whose environment carries
// WEFT_DIST_WORKER becomes a worker before main() is reached (after the
// program's static initialisers, so WEFT_DIST_TASK registrations are in
// place) and exits when the worker stops. A program can also serve in its
// own code: `return dist::run_worker({.redis_url = ..., .queue = ...});`.
//
// What a worker does, over and over:
//   * reads new tasks one at a time (XREADGROUP, blocking at most a second
//     at a time), so that a task waits in the stream, free for any idle
//     worker, rather than behind a long task in a busy worker;
//   * every visibility_timeout / 2, claims tasks other workers took and
//     left idle longer than visibility_timeout (they died): XAUTOCLAIM;
//     and deletes the consumers idle that long with no task pending;
//   * runs each task: a task delivered more than 1 + its retries times,
//     naming an unregistered function or a different signature, or whose
//     entry is malformed (a field missing or not a number, a reply stream
//     not of its queue), goes to the dead-letter stream (its future fails
//     with DeadLetterError); otherwise the function runs and its result or
//     exception (codec::DecodeError for arguments that do not decode) is
//     sent back and the task acknowledged, atomically (see
//     weft/dist/detail/wire.hpp); a result longer than Redis takes
//     (proto-max-bulk-len) is answered with RedisResponseError instead;
//   * while a task runs, a watchdog thread keeps it claimed (so a long
//     task is not taken by another worker) and enforces its time limit: a
//     task past it is answered with TaskTimeoutError, acknowledged, and
//     the worker process exits with status 70 (a C++ function cannot be
//     interrupted safely; `weft worker` starts a new process).
// Redis going away is survived: the worker reconnects with backoff and
// goes on where it was (an answer it could not deliver is sent again, in
// at most 3 rounds, each reconnecting and resending for up to
// ConnectOptions::connect_timeout; then run_worker throws RedisError, and
// the task, still pending, goes to another worker after the visibility
// timeout).
//
// Stopping: SIGTERM or SIGINT (handlers installed by run_worker), or
// request_stop(), let the running task finish and answer, then the
// worker's consumer leaves the group (unless a task is pending for it) and
// run_worker returns 0. A worker killed mid-task loses nothing: its task
// is claimed again after the visibility timeout.
//
// Thread-safety: one run_worker per process at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "weft/dist/redis.hpp"

namespace weft::dist {

struct WorkerOptions {
  std::string redis_url = "redis://127.0.0.1:6379/0";
  std::string queue;
  // The consumer name in the group; default "<hostname>:<pid>". Unique
  // among live workers: after losing its connection a worker runs the
  // tasks still pending under its name (a reply lost with the connection
  // may have delivered one to it).
  std::string consumer = {};
  // A task taken by a worker and idle this long is considered lost and
  // claimed by another. Keep it above the longest pause of a live worker.
  std::chrono::milliseconds visibility_timeout{30000};
  // Serving threads in this process, each its own consumer
  // ("<consumer>#<i>" beyond the first) with its own connection and
  // watchdog: for tasks that wait more than they compute. A task past its
  // time limit still ends the whole process (the other threads' tasks are
  // then claimed again after the visibility timeout).
  std::size_t threads = 1;
  // Stop after this many tasks (answered or dead-lettered) per serving
  // thread; for tests and benchmarks.
  std::optional<std::size_t> max_tasks = {};
  ConnectOptions connection = {};
};

// Serves until stopped (see the top). Returns 0 after a clean stop. Throws
// ValueError for a bad queue name or URL, a visibility timeout that is
// not positive, no threads, or bad options.connection (see
// ConnectOptions); RedisConnectionError if Redis cannot be reached when
// starting, or stays unreachable longer than
// options.connection.connect_timeout while serving; RedisError if the
// connection breaks each time an answer is sent (see the top).
int run_worker(const WorkerOptions& options);

// Asks the run_worker running in this process to stop after its current
// task (a request made before run_worker starts is not kept).
// Async-signal-safe.
void request_stop() noexcept;

namespace detail {

// The environment variable that makes a run of the executable a worker,
// and its value for `options`.
inline constexpr const char* worker_variable = "WEFT_DIST_WORKER";
std::string encode_worker_options(const WorkerOptions& options);
WorkerOptions decode_worker_options(std::string_view text);

// Starts `executable` (with `arguments`; looked up on PATH when it has no
// '/') as a worker process serving `options`; returns its pid. The worker
// gets SIGTERM when the thread that called this ends (PR_SET_PDEATHSIG
// follows the thread, not the process): call it from a thread that lives
// as long as the workers. Throws std::system_error if it cannot start.
pid_t spawn_worker_process(const std::string& executable, const std::vector<std::string>& arguments,
                           const WorkerOptions& options);

}  // namespace detail

}  // namespace weft::dist
