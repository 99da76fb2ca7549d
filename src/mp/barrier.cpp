// weft::mp::Barrier: CPython's Barrier state machine (filling, draining,
// resetting, broken) in shared memory, under a robust mutex, with every
// change of state announced on one process-shared futex word.
#include "weft/mp/barrier.hpp"

#include <limits>

#include "weft/detail/futex.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;

std::int64_t stored_timeout(std::optional<std::chrono::nanoseconds> timeout) {
  if (!timeout) return -1;
  return std::max(timeout->count(), std::int64_t{0});
}

std::uint32_t checked_parties(std::size_t parties) {
  if (parties == 0) throw ValueError("parties must be >= 1");
  if (parties > std::numeric_limits<std::uint32_t>::max()) throw ValueError("too many parties");
  return static_cast<std::uint32_t>(parties);
}

}  // namespace

// The barrier's mutex, held. A holder that died inside the critical section
// left the barrier in an unknown state: it is broken.
class Barrier::Held {
 public:
  explicit Held(const Barrier& barrier) : mutex_(barrier.state_->mutex) {
    if (mutex_.lock() == detail::RobustMutex::Locked::owner_died)
      barrier.break_barrier();
  }
  ~Held() { mutex_.unlock(); }
  Held(const Held&) = delete;
  Held& operator=(const Held&) = delete;

  // Waits for a change of state; false if the deadline passed first.
  bool wait_changed(const Barrier& barrier, const weft::detail::Deadline& deadline) {
    std::atomic<std::uint32_t>& word = barrier.state_->changed;
    const std::uint32_t seen = word.load(std::memory_order_relaxed);
    mutex_.unlock();
    const bool woken = weft::detail::futex_wait(word, seen, deadline, kShared);
    if (mutex_.lock() == detail::RobustMutex::Locked::owner_died)
      barrier.break_barrier();
    return woken;
  }

 private:
  detail::RobustMutex& mutex_;
};

Barrier::Barrier(std::size_t parties, Action action,
                 std::optional<std::chrono::nanoseconds> timeout)
    : state_(State::make(detail::StateKind::barrier, "Barrier", 1, checked_parties(parties),
                         stored_timeout(timeout))),
      action_(std::move(action)) {}

std::size_t Barrier::wait() {
  const std::int64_t timeout = state_->timeout_ns;
  return wait_until(timeout < 0 ? std::nullopt
                                : weft::detail::deadline_after(std::chrono::nanoseconds(timeout)));
}

std::size_t Barrier::wait_until(const weft::detail::Deadline& deadline) {
  Held held(*this);
  enter(held);
  const std::size_t index = state_->count++;
  struct Leave {
    Barrier& barrier;
    ~Leave() {
      --barrier.state_->count;
      barrier.exit_one();
    }
  } leave{*this};
  if (index + 1 == state_->parties) {
    release_all();
  } else {
    wait_released(held, deadline);
  }
  return index;
}

void Barrier::abort() {
  Held held(*this);
  break_barrier();
}

void Barrier::reset() {
  Held held(*this);
  if (state_->count > 0) {
    if (phase() == Phase::filling || phase() == Phase::broken) set_phase(Phase::resetting);
  } else {
    set_phase(Phase::filling);
  }
  changed();
}

std::size_t Barrier::n_waiting() const {
  Held held(*this);
  return phase() == Phase::filling ? state_->count : 0;
}

bool Barrier::broken() const {
  Held held(*this);
  return phase() == Phase::broken;
}

// Waits out a previous round that is still draining or resetting.
void Barrier::enter(Held& held) {
  while (phase() == Phase::draining || phase() == Phase::resetting)
    held.wait_changed(*this, std::nullopt);
  if (phase() == Phase::broken) throw BrokenBarrierError();
}

// The last arrival runs the action and lets everyone go.
void Barrier::release_all() {
  try {
    if (action_) action_();
    set_phase(Phase::draining);
    changed();
  } catch (...) {
    break_barrier();
    throw;
  }
}

void Barrier::wait_released(Held& held, const weft::detail::Deadline& deadline) {
  while (phase() == Phase::filling) {
    if (!held.wait_changed(*this, deadline) && phase() == Phase::filling) {
      break_barrier();
      throw BrokenBarrierError();
    }
  }
  if (phase() != Phase::draining) throw BrokenBarrierError();
}

// The last thread to leave a draining or resetting round re-opens it.
void Barrier::exit_one() noexcept {
  if (state_->count == 0 && (phase() == Phase::resetting || phase() == Phase::draining)) {
    set_phase(Phase::filling);
    changed();
  }
}

void Barrier::break_barrier() const noexcept {
  set_phase(Phase::broken);
  changed();
}

void Barrier::changed() const noexcept {
  state_->changed.fetch_add(1, std::memory_order_release);
  weft::detail::futex_wake_all(state_->changed, kShared);
}

std::uint32_t Barrier::share_with_child() const {
  if (action_) {
    throw codec::EncodeError(
        "a Barrier with an action cannot be sent to a spawned child (the action stays in "
        "this process)");
  }
  return state_.share_with_child("Barrier");
}

Barrier Barrier::from_parent(std::uint32_t token) {
  return Barrier(State::from_parent(token, detail::StateKind::barrier));
}

}  // namespace weft::mp
