// src/io/signal_dispatcher.cpp — the process-wide signal table and the
// sigaction handler (see signal_dispatcher.hpp).
#include "signal_dispatcher.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

#include "weft/errors.hpp"

namespace weft::io::detail::signal_dispatcher {
namespace {

// Loops (or gevent handlers) with signal handlers at the same time.
constexpr int kSlots = 128;
constexpr int kSignals = 65;  // NSIG on Linux: signals 1 to 64, one bit each

struct Entry {
  std::atomic<int> fd{-1};
  std::atomic<std::uint64_t> signals{0};
  std::atomic<int> writers{0};  // signal handlers that may be writing to fd now
};
static_assert(std::atomic<int>::is_always_lock_free && std::atomic<std::uint64_t>::is_always_lock_free,
              "the signal handler may only use lock-free atomics");

std::array<Entry, kSlots> entries;
std::atomic<pid_t> owner{0};      // the process the table belongs to
std::atomic<unsigned> generation{0};  // bumped in each child of fork()

// Guarded by mutex: which slots are taken, and per signal how many slots
// want it and what its disposition was before.
std::mutex mutex;
std::array<bool, kSlots> taken{};
struct Installed {
  int users = 0;
  struct sigaction previous {};
};
std::array<Installed, kSignals> installed{};

constexpr std::uint64_t bit(int sig) noexcept { return std::uint64_t{1} << (sig - 1); }

void on_signal(int sig) noexcept {
  const int saved_errno = errno;
  if (::getpid() == owner.load(std::memory_order_relaxed)) {
    const auto byte = static_cast<unsigned char>(sig);
    for (Entry& entry : entries) {
      if ((entry.signals.load(std::memory_order_seq_cst) & bit(sig)) == 0) continue;
      // Counted before the fd is read: detach() clears the fd, then waits
      // for the count to fall to 0.
      entry.writers.fetch_add(1, std::memory_order_seq_cst);
      // A full pipe already holds a wake-up for the loop: the byte is lost,
      // as Python's wakeup fd loses it.
      if (const int fd = entry.fd.load(std::memory_order_seq_cst); fd >= 0) {
        [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
      }
      entry.writers.fetch_sub(1, std::memory_order_seq_cst);
    }
  }
  errno = saved_errno;
}

void lock_for_fork() noexcept { mutex.lock(); }
void unlock_after_fork() noexcept { mutex.unlock(); }

// In the child: nothing the parent registered applies here, and no handler
// runs (only the forking thread is left, and it is not in one).
void reset_in_child() noexcept {
  owner.store(::getpid(), std::memory_order_relaxed);
  generation.fetch_add(1, std::memory_order_relaxed);
  for (Entry& entry : entries) {
    entry.signals.store(0, std::memory_order_relaxed);
    entry.fd.store(-1, std::memory_order_relaxed);
    entry.writers.store(0, std::memory_order_relaxed);
  }
  taken.fill(false);
  for (int sig = 1; sig < kSignals; ++sig) {
    if (installed[sig].users == 0) continue;
    ::sigaction(sig, &installed[sig].previous, nullptr);
    installed[sig].users = 0;
  }
  mutex.unlock();
}

void register_fork_handlers() {
  static const int registered = [] {
    owner.store(::getpid(), std::memory_order_relaxed);
    return ::pthread_atfork(&lock_for_fork, &unlock_after_fork, &reset_in_child);
  }();
  (void)registered;
}

bool current(Slot slot) noexcept {
  return slot && slot.generation == generation.load(std::memory_order_relaxed);
}

}  // namespace

Slot attach(int write_fd) {
  register_fork_handlers();
  const std::lock_guard lock(mutex);
  for (int index = 0; index < kSlots; ++index) {
    if (taken[index]) continue;
    taken[index] = true;
    entries[index].fd.store(write_fd, std::memory_order_seq_cst);
    return {index, generation.load(std::memory_order_relaxed)};
  }
  throw RuntimeError("too many event loops with signal handlers (at most " + std::to_string(kSlots) + ")");
}

void detach(Slot slot) noexcept {
  const std::lock_guard lock(mutex);
  if (!current(slot)) return;
  Entry& entry = entries[slot.index];
  for (int sig = 1; sig < kSignals; ++sig) {
    if ((entry.signals.load(std::memory_order_relaxed) & bit(sig)) == 0) continue;
    entry.signals.fetch_and(~bit(sig), std::memory_order_seq_cst);
    if (--installed[sig].users == 0) ::sigaction(sig, &installed[sig].previous, nullptr);
  }
  entry.fd.store(-1, std::memory_order_seq_cst);
  // A handler that read the fd before it was cleared may still write to it.
  // Handlers that begin now skip the slot (it wants no signal), so the wait
  // ends however many signals keep arriving; the slot stays taken until
  // then, so that no attach() reuses it meanwhile.
  while (entry.writers.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
  taken[slot.index] = false;
}

void want(Slot slot, int sig) {
  const std::lock_guard lock(mutex);
  if (!current(slot)) return;
  Entry& entry = entries[slot.index];
  if ((entry.signals.load(std::memory_order_relaxed) & bit(sig)) != 0) return;
  // The slot wants the signal before the handler is there to look.
  entry.signals.fetch_or(bit(sig), std::memory_order_seq_cst);
  Installed& state = installed[sig];
  if (state.users == 0) {
    struct sigaction action {};
    action.sa_handler = &on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (::sigaction(sig, &action, &state.previous) != 0) {
      const int error = errno;
      entry.signals.fetch_and(~bit(sig), std::memory_order_seq_cst);
      if (error == EINVAL) throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
      throw std::system_error(error, std::generic_category(), "sigaction");
    }
  }
  ++state.users;
}

void unwant(Slot slot, int sig) noexcept {
  const std::lock_guard lock(mutex);
  if (!current(slot)) return;
  Entry& entry = entries[slot.index];
  if ((entry.signals.load(std::memory_order_relaxed) & bit(sig)) == 0) return;
  entry.signals.fetch_and(~bit(sig), std::memory_order_seq_cst);
  if (--installed[sig].users == 0) ::sigaction(sig, &installed[sig].previous, nullptr);
}

}  // namespace weft::io::detail::signal_dispatcher
