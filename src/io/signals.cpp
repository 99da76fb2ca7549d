// src/io/signals.cpp — io::SignalHandlers: a loop's self-pipe and the
// callbacks it runs for the signal numbers read from it.
#include "weft/io/signals.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

#include "backend.hpp"
#include "signal_dispatcher.hpp"
#include "weft/errors.hpp"

namespace weft::io {

namespace dispatcher = detail::signal_dispatcher;

void check_signal(int sig) {
  sigset_t all;
  sigfillset(&all);
  if (sig < 1 || sig >= NSIG || sigismember(&all, sig) != 1)
    throw ValueError("invalid signal number " + std::to_string(sig));
}

SignalHandlers::SignalHandlers(Loop& loop) noexcept : loop_(loop) {}

SignalHandlers::~SignalHandlers() { clear(); }

SignalHandlers::Entry* SignalHandlers::find(int sig) noexcept {
  for (Entry& entry : entries_)
    if (entry.sig == sig) return &entry;
  return nullptr;
}

void SignalHandlers::add(int sig, Callback callback) {
  check_signal(sig);
  // A child's inherited registrations are stale: they would take nothing.
  if (loop_.in_forked_child()) detail::throw_in_forked_child();
  auto shared = std::make_shared<Callback>(std::move(callback));
  if (Entry* entry = find(sig)) {
    entry->callback = std::move(shared);
    return;
  }
  if (read_fd_ < 0) open();
  entries_.push_back({sig, std::move(shared)});
  try {
    dispatcher::want({slot_index_, slot_generation_}, sig);
  } catch (...) {
    entries_.pop_back();
    if (entries_.empty()) close_pipe();
    throw;
  }
}

bool SignalHandlers::remove(int sig) {
  check_signal(sig);
  Entry* entry = find(sig);
  if (entry == nullptr) return false;
  dispatcher::unwant({slot_index_, slot_generation_}, sig);
  entries_.erase(entries_.begin() + (entry - entries_.data()));
  if (entries_.empty()) close_pipe();
  return true;
}

void SignalHandlers::clear() noexcept {
  entries_.clear();
  close_pipe();
}

void SignalHandlers::open() {
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  try {
    const dispatcher::Slot slot = dispatcher::attach(write_fd_);
    slot_index_ = slot.index;
    slot_generation_ = slot.generation;
    loop_.add_reader(read_fd_, [this] { on_readable(); });
  } catch (...) {
    close_pipe();
    throw;
  }
}

void SignalHandlers::close_pipe() noexcept {
  if (slot_index_ >= 0) dispatcher::detach({slot_index_, slot_generation_});
  slot_index_ = -1;
  if (read_fd_ >= 0) loop_.close(read_fd_);  // removes the reader first
  if (write_fd_ >= 0) ::close(write_fd_);
  read_fd_ = write_fd_ = -1;
}

void SignalHandlers::on_readable() {
  unsigned char signals[64];
  for (;;) {
    const ssize_t n = ::read(read_fd_, signals, sizeof signals);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    for (ssize_t i = 0; i < n; ++i) {
      // A signal whose callback went since it arrived is dropped, as in
      // asyncio's _handle_signal.
      if (const Entry* entry = find(signals[i]))
        loop_.call_soon([callback = entry->callback] { (*callback)(); });
    }
    if (static_cast<std::size_t>(n) < sizeof signals) return;
  }
}

}  // namespace weft::io
