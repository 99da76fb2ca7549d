// weft::Thread, the registry of live threads, and excepthook.
#include "weft/threading/thread.hpp"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <system_error>
#include <typeinfo>
#include <utility>

#include "thread_state.hpp"
#include "weft/detail/exception_text.hpp"
#include "weft/detail/futex.hpp"
#include "weft/detail/handler_slot.hpp"
#include "weft/errors.hpp"

namespace weft {
namespace detail {

struct ThreadAccess {
  static ThreadHandle handle(std::shared_ptr<ThreadState> state) { return ThreadHandle(std::move(state)); }
};

namespace {

std::int64_t kernel_thread_id() noexcept { return static_cast<std::int64_t>(::syscall(SYS_gettid)); }

std::uint64_t pthread_identity() noexcept { return static_cast<std::uint64_t>(::pthread_self()); }

// Linux allows 15 bytes of thread name; cut on a UTF-8 character boundary.
void set_os_thread_name(const std::string& name) noexcept {
  std::size_t cut = std::min<std::size_t>(name.size(), 15);
  if (cut < name.size()) {
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  }
  ::pthread_setname_np(::pthread_self(), name.substr(0, cut).c_str());
}

// Alive threads, in start order. Never destroyed: daemon threads may still
// be running while static objects are torn down.
struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<ThreadState>> alive;
  std::atomic<unsigned> counter{0};
};

void prepare_to_fork() noexcept;
void after_fork_in_parent() noexcept;
void adopt_forking_thread_in_child() noexcept;

}  // namespace

std::mutex& names_mutex() noexcept {
  static constinit std::mutex instance;
  return instance;
}

namespace {

Registry& registry() {
  static Registry* instance = [] {
    // The forking thread holds the mutex across fork(), so the child gets
    // the registry in a consistent state, its mutex held by its only thread.
    ::pthread_atfork(prepare_to_fork, after_fork_in_parent, adopt_forking_thread_in_child);
    return new Registry;
  }();
  return *instance;
}

std::string next_name(const char* prefix) {
  return prefix + std::to_string(registry().counter.fetch_add(1, std::memory_order_relaxed) + 1);
}

void register_alive(const std::shared_ptr<ThreadState>& state) {
  std::lock_guard guard(registry().mutex);
  registry().alive.push_back(state);
}

void unregister(const ThreadState* state) {
  Registry& r = registry();
  std::lock_guard guard(r.mutex);
  std::erase_if(r.alive, [&](const auto& s) { return s.get() == state; });
}

void publish_identity(ThreadState& state) noexcept {
  state.ident.store(pthread_identity(), std::memory_order_relaxed);
  state.native_id.store(kernel_thread_id(), std::memory_order_relaxed);
  state.native_id_ready.store(1, std::memory_order_release);
  futex_wake_all(state.native_id_ready);
}

void mark_finished(ThreadState& state) noexcept {
  unregister(&state);
  state.finished.store(1, std::memory_order_release);
  futex_wake_all(state.finished);
}

// The state of the calling thread, started but not yet registered.
std::shared_ptr<ThreadState> make_started_state(std::string name, bool daemon) {
  auto state = std::make_shared<ThreadState>();
  state->name = std::move(name);
  state->daemon = daemon;
  state->started.store(true, std::memory_order_relaxed);
  publish_identity(*state);
  return state;
}

std::shared_ptr<ThreadState> make_running_state(std::string name, bool daemon) {
  auto state = make_started_state(std::move(name), daemon);
  register_alive(state);
  return state;
}

// The calling thread's state: set by weft threads when they start, by the
// main thread at load time, and lazily for foreign threads, whose "Dummy-N"
// state ends with it.
struct CurrentThread {
  std::shared_ptr<ThreadState> state;
  bool dummy = false;
  ~CurrentThread();
};
thread_local CurrentThread t_current;
// Set once t_current is destroyed, for the thread_local destructors that run
// after it.
thread_local bool t_current_gone = false;

CurrentThread::~CurrentThread() {
  t_current_gone = true;
  if (dummy) mark_finished(*state);
}

std::shared_ptr<ThreadState>& main_state() {
  static auto* state = new std::shared_ptr<ThreadState>(make_running_state("MainThread", false));
  return *state;
}

[[gnu::constructor]] void adopt_main_thread() { t_current.state = main_state(); }

// The state a forking thread that weft did not start (and that never asked
// for current_thread()) takes in the child: made before fork(), where
// allocating is safe, not in the child, where another thread of the
// parent may have held the allocator's lock.
std::shared_ptr<ThreadState>* g_forking_state = nullptr;

void prepare_to_fork() noexcept {
  registry().mutex.lock();
  names_mutex().lock();
  if (!t_current.state) {
    try {
      auto state = std::make_shared<ThreadState>();
      state->name = "MainThread";
      state->started.store(true, std::memory_order_relaxed);
      g_forking_state = new std::shared_ptr<ThreadState>(std::move(state));
    } catch (const std::bad_alloc&) {
      g_forking_state = nullptr;
    }
  }
}

void after_fork_in_parent() noexcept {
  delete std::exchange(g_forking_state, nullptr);
  names_mutex().unlock();
  registry().mutex.unlock();
}

// In a child of fork(), as Python's threading._after_fork does: the forking
// thread is the only one left, and becomes the main thread; every other
// thread the parent had is over (not alive, not counted, joined at once).
// Runs with the registry's and the names' mutexes held by the prepare
// handler, and allocates nothing.
void adopt_forking_thread_in_child() noexcept {
  names_mutex().unlock();
  Registry& r = registry();
  std::shared_ptr<ThreadState> self = t_current.state;
  if (!self && g_forking_state != nullptr) self = std::move(*g_forking_state);
  g_forking_state = nullptr;  // its holder is left behind: freeing it here could take the allocator's lock
  if (!self) {
    r.mutex.unlock();  // no memory for a state before the fork: the registry stays as it was
    return;
  }
  publish_identity(*self);
  for (const auto& state : r.alive) {
    if (state == self) continue;
    state->finished.store(1, std::memory_order_release);
    futex_wake_all(state->finished);
  }
  r.alive.assign(1, self);
  t_current.state = self;
  main_state() = std::move(self);
  r.mutex.unlock();
}

// Joins non-daemon threads still running when the program exits, as
// Python's interpreter does at shutdown.
void join_non_daemon_threads_at_exit() {
  for (;;) {
    std::shared_ptr<ThreadState> pending;
    {
      std::lock_guard guard(registry().mutex);
      for (const auto& state : registry().alive) {
        if (!state->daemon && state.get() != t_current.state.get() && state != main_state()) {
          pending = state;
          break;
        }
      }
    }
    if (!pending) return;
    while (pending->finished.load(std::memory_order_acquire) == 0)
      futex_wait(pending->finished, 0, std::nullopt);
  }
}

// Never destroyed: daemon threads may raise while static objects are torn
// down.
HandlerSlot<ExceptHook>& hook_slot() {
  static auto* instance = new HandlerSlot<ExceptHook>;
  return *instance;
}

struct Launch {
  std::shared_ptr<ThreadState> state;
  UniqueFunction<void()> body;
};

void* thread_main(void* arg) {
  std::unique_ptr<Launch> launch(static_cast<Launch*>(arg));
  const std::shared_ptr<ThreadState> state = launch->state;
  t_current.state = state;
  publish_identity(*state);
  {
    std::lock_guard guard(names_mutex());
    set_os_thread_name(state->name);
  }
  try {
    launch->body();
  } catch (...) {
    ExceptHookArgs args{std::current_exception(), current_exception_type(), ThreadAccess::handle(state)};
    try {
      excepthook(args);
    } catch (...) {
      std::fputs("weft: exception in excepthook\n", stderr);
    }
  }
  launch.reset();  // the target and its arguments die on their own thread
  release_thread_locals();
  mark_finished(*state);
  return nullptr;
}

}  // namespace
}  // namespace detail

// ---- ThreadHandle ----

std::string ThreadHandle::name() const {
  std::lock_guard guard(detail::names_mutex());
  return state_->name;
}

void ThreadHandle::set_name(std::string name) {
  std::lock_guard guard(detail::names_mutex());
  state_->name = std::move(name);
  if (detail::t_current.state == state_) detail::set_os_thread_name(state_->name);
}

bool ThreadHandle::daemon() const noexcept { return state_->daemon; }

std::optional<std::uint64_t> ThreadHandle::ident() const noexcept {
  if (!state_->started.load(std::memory_order_acquire)) return std::nullopt;
  const std::uint64_t ident = state_->ident.load(std::memory_order_relaxed);
  return ident != 0 ? std::optional(ident) : std::nullopt;
}

std::optional<std::int64_t> ThreadHandle::native_id() const {
  if (!state_->started.load(std::memory_order_acquire)) return std::nullopt;
  while (state_->native_id_ready.load(std::memory_order_acquire) == 0)
    detail::futex_wait(state_->native_id_ready, 0, std::nullopt);
  return state_->native_id.load(std::memory_order_relaxed);
}

bool ThreadHandle::is_alive() const noexcept {
  return state_->started.load(std::memory_order_acquire) &&
         state_->finished.load(std::memory_order_acquire) == 0;
}

void ThreadHandle::join() const { join_until(std::nullopt); }

bool ThreadHandle::join_until(const detail::Deadline& deadline) const {
  if (!state_->started.load(std::memory_order_acquire))
    throw RuntimeError("cannot join thread before it is started");
  if (detail::t_current.state == state_) throw RuntimeError("cannot join current thread");
  while (state_->finished.load(std::memory_order_acquire) == 0) {
    if (!detail::futex_wait(state_->finished, 0, deadline))
      return state_->finished.load(std::memory_order_acquire) != 0;
  }
  return true;
}

// ---- Thread ----

Thread::Thread(ThreadOptions options) : state_(std::make_shared<detail::ThreadState>()) {
  state_->name = options.name.empty() ? detail::next_name("Thread-") : std::move(options.name);
  state_->daemon = options.daemon.value_or(current_thread().daemon());
}

Thread::~Thread() {
  if (!state_->started.load(std::memory_order_acquire) || detail::t_current.state == state_) return;
  if (!state_->daemon || state_->runs_object) join();
}

void Thread::set_daemon(bool daemon) {
  if (state_->started.load(std::memory_order_acquire))
    throw RuntimeError("cannot set daemon status of active thread");
  state_->daemon = daemon;
}

void Thread::run() {
  if (target_) target_();
}

void Thread::start() {
  if (state_->started.exchange(true, std::memory_order_acq_rel))
    throw RuntimeError("threads can only be started once");
  static std::once_flag exit_hook;
  std::call_once(exit_hook, [] { std::atexit(detail::join_non_daemon_threads_at_exit); });

  // A plain Thread runs its target straight from the launch record, never
  // touching this object again, so a daemon may outlive it. A subclass
  // runs run() on this object.
  auto launch = std::make_unique<detail::Launch>();
  launch->state = state_;
  state_->runs_object = typeid(*this) != typeid(Thread);
  if (state_->runs_object) {
    launch->body = [this] { run(); };
  } else {
    launch->body = std::move(target_);
  }

  detail::register_alive(state_);
  const std::shared_ptr<detail::ThreadState> state = state_;
  pthread_attr_t attr;
  ::pthread_attr_init(&attr);
  ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t handle{};
  const int rc = ::pthread_create(&handle, &attr, detail::thread_main, launch.get());
  ::pthread_attr_destroy(&attr);
  if (rc != 0) {
    detail::unregister(state_.get());
    if (!state_->runs_object) target_ = std::move(launch->body);
    state_->started.store(false, std::memory_order_release);
    throw std::system_error(rc, std::generic_category(), "cannot start thread");
  }
  launch.release();
  // Through the launch's copy of the state, not this object: a Timer's
  // function may already have destroyed it.
  state->ident.store(static_cast<std::uint64_t>(handle), std::memory_order_relaxed);
}

// ---- module functions ----

ThreadHandle current_thread() {
  const auto on_main = [] { return detail::kernel_thread_id() == ::getpid(); };
  if (detail::t_current_gone) {
    // A thread_local destructor that runs after the thread's own: the main
    // thread is still itself, a foreign thread a Dummy that is over.
    if (on_main()) return ThreadHandle(detail::main_state());
    auto over = detail::make_started_state(detail::next_name("Dummy-"), true);
    over->finished.store(1, std::memory_order_release);
    return ThreadHandle(std::move(over));
  }
  // The main thread may get here before the load-time hook has run (from a
  // static initializer that precedes it).
  auto& current = detail::t_current;
  if (!current.state && on_main()) current.state = detail::main_state();
  if (!current.state) {
    current.state = detail::make_running_state(detail::next_name("Dummy-"), true);
    current.dummy = true;
  }
  return ThreadHandle(current.state);
}

ThreadHandle main_thread() { return ThreadHandle(detail::main_state()); }

std::size_t active_count() {
  std::lock_guard guard(detail::registry().mutex);
  return detail::registry().alive.size();
}

std::vector<ThreadHandle> enumerate() {
  std::lock_guard guard(detail::registry().mutex);
  std::vector<ThreadHandle> result;
  result.reserve(detail::registry().alive.size());
  for (const auto& state : detail::registry().alive) result.push_back(ThreadHandle(state));
  return result;
}

void default_excepthook(const ExceptHookArgs& args) {
  const std::string text = "Exception in thread " + args.thread.name() + ":\n" + args.exc_type + ": " +
                           detail::exception_text(args.exc_value) + "\n";
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

void excepthook(const ExceptHookArgs& args) {
  const ExceptHook hook = detail::hook_slot().get();
  if (hook) {
    hook(args);
  } else {
    default_excepthook(args);
  }
}

ExceptHook set_excepthook(ExceptHook hook) { return detail::hook_slot().exchange(std::move(hook)); }

}  // namespace weft
