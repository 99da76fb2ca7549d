// weft/mp/detail/worker_pool.hpp — the engine under mp::Pool and
// futures::ProcessPoolExecutor: N worker processes, each on its own socket
// pair, fed by one pool thread in the parent.
//
// Tasks are functions by reference. The first task of a function sends the
// worker a "define" frame (a typed runner factory and the function, both by
// reference); later tasks name it by a small integer and carry only their
// encoded arguments. Each worker answers its tasks in order, and writes a
// task's answer before it starts the next one, so the parent always knows
// which tasks a worker holds and never waits for an answer behind a task
// that blocks. When one dies, the task it was running (see ProgressSlot)
// fails with WorkerLostError and the others it held go back to the head of
// the queue — including one it had finished but not yet answered (it died
// between the two), which therefore runs again.
//
// The pool thread (Python's task and result handler threads in one) waits
// in epoll on the worker sockets, their sentinels and an eventfd, writes
// many tasks per syscall, completes sinks and runs the callbacks they carry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "weft/mp/connection.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/sharedctypes.hpp"

namespace weft::mp::detail {

// How a worker answered a task.
enum class Outcome : std::uint8_t {
  value = 0,    // the payload is the encoded result
  error = 1,    // the payload is an EncodedException
  partial = 2,  // a chunk where some items failed: see worker_pool_tasks.hpp
  init_failed = 3,
};

// Where a task's outcome goes, in the parent. complete() and fail() run on
// the pool thread, exactly one of them, once; they must not throw.
class TaskSink {
 public:
  virtual ~TaskSink() = default;
  virtual void complete(Outcome outcome, std::string_view payload) noexcept = 0;
  virtual void fail(std::exception_ptr error) noexcept = 0;
  // Asked once, when the task is about to be sent to a worker: false drops
  // the task without calling complete() or fail() (a cancelled future).
  virtual bool start() noexcept { return true; }
  // The task was dropped before it started (shutdown's cancel_futures):
  // cancel its future. Instead of complete() or fail().
  virtual void cancel() noexcept = 0;
};

// What runs a task in a worker: decodes the arguments, calls the function
// and appends the encoded result to `out`. Throws what the function, the
// decoding or the encoding throw (the worker then reports the exception).
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual Outcome run(std::string_view args, std::string& out) = 0;
};

// Builds, in the worker, the runner of a function from its encoding.
using MakeRunner = std::unique_ptr<TaskRunner> (*)(std::string_view function);

// An initializer and its arguments as each worker receives them, as
// Python's Pool hands its initargs to each worker's Process: a fork worker
// is a copy of the parent and calls it as it is; for spawn and forkserver it
// is encoded as part of that worker's start, inside its descriptor-sharing
// scope (fd_sharing.hpp), so that a Lock, a Queue, a Value or a Connection
// reaches every worker, replacements included, by inheritance. Encoded as
// [rebuild, bytes] (rebuild_target's); decoding rebuilds the call at once,
// while the inherited descriptors are there, and keeps what that throws
// for call to throw. make_initializer (worker_pool_tasks.hpp) makes one.
struct Initializer {
  std::function<void()> call;            // empty: no initializer
  Rebuild rebuild = nullptr;             // in the parent: how a spawned worker rebuilds `call`
  std::function<std::string()> encode;  // in the parent: the bytes `rebuild` takes
  explicit operator bool() const noexcept { return static_cast<bool>(call); }
};

struct WorkerPoolConfig {
  std::size_t processes = 0;  // 0: process_cpu_count()
  Context context = Context(StartMethod::fork);
  Initializer initializer;
  std::optional<std::size_t> max_tasks_per_child;
  std::string name_prefix = "PoolWorker";  // workers are "<prefix>-<n>"
};

class WorkerPool {
 public:
  // Starts the workers and the pool thread. Throws ValueError for a
  // max_tasks_per_child of 0, std::system_error if the OS refuses.
  explicit WorkerPool(WorkerPoolConfig config);
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;
  // terminate() unless closed, join() if closed. From the pool thread
  // itself (a callback dropped the last reference), neither blocks: the
  // thread goes on once the callback returns, stopping the workers (or, if
  // closed, finishing the queued tasks first), and then ends on its own.
  ~WorkerPool();

  // The number of a function for this pool; the first call for a given
  // (maker, function) stores `define` (encode(tuple(maker, encode(fn)))),
  // which `encode_define` computes only then. Thread-safe.
  template <class EncodeDefine>
  std::uint32_t intern(MakeRunner maker, const void* function, EncodeDefine&& encode_define) {
    if (auto known = find_function(maker, function)) return *known;
    return add_function(maker, function, encode_define());
  }

  // What submit() calls, holding the pool's lock, to throw when the pool
  // was closed or terminated: so the check and the queueing are one step.
  using ThrowClosed = void (*)();
  // mp::Pool's: ValueError("Pool not running").
  [[noreturn]] static void throw_not_running();

  // Queues a task. Throws through `throw_closed` after close() or
  // terminate(), futures::BrokenProcessPool once broken. Thread-safe; never
  // blocks on workers.
  void submit(std::uint32_t function, std::string args, std::shared_ptr<TaskSink> sink,
              ThrowClosed throw_closed = &throw_not_running);

  // Drops every task not yet started, calling its sink's cancel(). A task
  // put back after its worker died was started: it stays queued and runs
  // again. Never blocks.
  void cancel_pending();
  // No more submissions; the workers exit once every queued task is done.
  void close();
  // Stops the workers now (SIGTERM, or SIGKILL with `kill`); every task
  // not done fails with `reason`. Blocks until the workers are reaped —
  // except on this pool's own thread (a callback), where it returns at
  // once and the workers are reaped when the callback has returned.
  void terminate(std::exception_ptr reason, bool kill);
  // Blocks until the pool thread has ended (after close() or terminate()).
  // Any number of threads may join and terminate at once. Throws
  // ValueError("Pool is still running") before either, RuntimeError from
  // this pool's own thread (another pool's thread may join it).
  void join();

  bool closed() const noexcept;
  // The exception with which submissions fail once the pool broke (an
  // initializer failed, or the pool thread failed: a worker that died
  // could not be replaced), or null.
  std::exception_ptr broken() const;
  std::size_t processes() const noexcept;
  // True on the pool thread of any WorkerPool (where blocking on a result
  // would deadlock).
  static bool on_pool_thread() noexcept;

 private:
  struct Impl;
  std::optional<std::uint32_t> find_function(MakeRunner maker, const void* function);
  std::uint32_t add_function(MakeRunner maker, const void* function, std::string define);
  // terminate() without waiting.
  void request_terminate(std::exception_ptr reason, bool kill);
  std::shared_ptr<Impl> impl_;  // shared with the pool thread, which may outlive this object
};

// What a worker publishes in shared memory as it goes: the id of the task
// it last started and of the one it last finished. A worker sends each
// answer whole before it starts its next task, so when it dies, the only
// task it was sent that ran without its answer arriving is the one it last
// started: still running (started != finished), or finished with its answer
// cut short (started == finished). ready_slot turns 1 once the initializer
// has returned: a worker that dies before that died in its initializer.
enum ProgressSlot : std::size_t { started_slot = 0, finished_slot = 1, ready_slot = 2, progress_slots = 3 };

// The worker process's entry point (a function by reference, so that every
// start method can run it).
void worker_main(Connection connection, RawArray<std::uint64_t> progress, Initializer initializer,
                 std::int64_t max_tasks);

}  // namespace weft::mp::detail

namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <>
  struct pack<weft::mp::detail::Initializer> {
    template <class Stream>
    packer<Stream>& operator()(packer<Stream>& out, const weft::mp::detail::Initializer& init) const {
      if (!init) return out.pack_nil();
      const std::string bytes = init.encode();
      out.pack_array(2);
      out.pack(init.rebuild);
      out.pack_bin(static_cast<std::uint32_t>(bytes.size()));
      return out.pack_bin_body(bytes.data(), static_cast<std::uint32_t>(bytes.size()));
    }
  };

  template <>
  struct as<weft::mp::detail::Initializer> {
    weft::mp::detail::Initializer operator()(const msgpack::object& in) const;
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
