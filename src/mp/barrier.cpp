// weft::mp::Barrier: CPython's Barrier state machine (filling, draining,
// broken) in shared memory, under a robust mutex, with every change of state
// announced on one process-shared futex word. Where CPython's reset() waits
// for the parties of the round to leave, this one abandons the round (a
// party of another process may have died in it and never leave): its
// parties no longer count, and a new round starts at once.
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
  enter(held, deadline);
  const std::uint32_t round = state_->round;
  const std::size_t index = state_->count++;
  struct Leave {
    Barrier& barrier;
    std::uint32_t round;
    ~Leave() {
      if (barrier.state_->round != round) return;  // abandoned, with its count
      --barrier.state_->count;
      barrier.exit_one();
    }
  } leave{*this, round};
  if (index + 1 == state_->parties) {
    release_all();
  } else {
    wait_released(held, round, deadline);
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
    abandon_round(Phase::filling);
  } else {
    set_phase(Phase::filling);
    changed();
  }
}

std::size_t Barrier::n_waiting() const noexcept {
  return phase() == Phase::filling ? state_->count.load() : 0;
}

bool Barrier::broken() const noexcept {
  return phase() == Phase::broken;
}

// Waits out a previous round that is still draining. If the deadline passes
// first (a party that died in it never leaves), abandons the round and
// breaks the barrier.
void Barrier::enter(Held& held, const weft::detail::Deadline& deadline) {
  while (phase() == Phase::draining) {
    if (!held.wait_changed(*this, deadline) && phase() == Phase::draining) {
      abandon_round(Phase::broken);
      throw BrokenBarrierError();
    }
  }
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

void Barrier::wait_released(Held& held, std::uint32_t round,
                            const weft::detail::Deadline& deadline) {
  const auto filling = [&] { return state_->round == round && phase() == Phase::filling; };
  while (filling()) {
    if (!held.wait_changed(*this, deadline) && filling()) {
      break_barrier();
      throw BrokenBarrierError();
    }
  }
  const bool released =
      state_->round == round ? phase() == Phase::draining : released_before_abandoned(round);
  if (!released) throw BrokenBarrierError();
}

// The last thread to leave a draining round re-opens the barrier.
void Barrier::exit_one() noexcept {
  if (state_->count == 0 && phase() == Phase::draining) {
    set_phase(Phase::filling);
    changed();
  }
}

// Gives up the current round with whoever is still counted in it and starts
// the next one, empty, in `next`. A party still in the old round learns
// from released_rounds whether it had been released.
void Barrier::abandon_round(Phase next) noexcept {
  const std::uint64_t bit = std::uint64_t{1} << (state_->round % 64);
  if (phase() == Phase::draining) {
    state_->released_rounds |= bit;
  } else {
    state_->released_rounds &= ~bit;
  }
  ++state_->round;
  state_->count = 0;
  set_phase(next);
  changed();
}

// Whether abandoned round `round` had been released. released_rounds keeps
// the last 64 abandoned rounds; a party that slept through more abandonments
// than that is told its round broke.
bool Barrier::released_before_abandoned(std::uint32_t round) const noexcept {
  return state_->round - round <= 64 && ((state_->released_rounds >> (round % 64)) & 1) != 0;
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
