// weft::mp::Condition: notifications are tokens handed to the waiters that
// were registered when notify() ran.
//
// Under the lock, a waiter registers (sleepers + 1) and remembers how many
// notify calls had been made (`issued`). notify(n) turns up to n registered
// waiters into tokens of its own generation (the new value of `issued`, the
// futex word every waiter sleeps on) and bumps `issued`. A waiter may take
// only a token of a generation after the one it remembered, so a waiter
// that arrives after a notify never takes that notify's tokens, nor tokens
// a waiter that died left behind. Any eligible waiter may take any such
// token: if it was not itself one of those counted, it takes the place of
// the one it took the token from, who stays counted in `sleepers`. Waiters
// take the oldest token they may, so that no token is taken from a later
// waiter who could take nothing else. A waiter that times out, back under
// the lock, either takes a token (and counts as notified) or un-registers,
// and the counts stay exact.
//
// The generations live in a ring of kConditionGenerations slots. When a
// notify reuses a slot, the tokens still in it (those of a waiter that died,
// or of one that has not run since) move to `older_tokens`, tagged with the
// latest generation moved there. A waiter that remembered a generation
// before that tag may take one of them, before any in the ring: the waiter
// that has not run since finds its token there, and only a waiter that has
// waited through that many notify calls can take a dead waiter's instead.
#include "weft/mp/condition.hpp"

#include <algorithm>
#include <climits>

#include "weft/detail/futex.hpp"
#include "weft/errors.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;
constexpr std::uint32_t kSlots = detail::kConditionGenerations;

// A slot holds a generation (high half) and its tokens not yet taken (low).
std::uint64_t slot_word(std::uint32_t generation, std::uint32_t tokens) noexcept {
  return (std::uint64_t{generation} << 32) | tokens;
}
std::uint32_t slot_generation(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word >> 32);
}
std::uint32_t slot_tokens(std::uint64_t word) noexcept { return static_cast<std::uint32_t>(word); }

// Takes a token from `word` if it holds one and `eligible(its generation)`.
template <class Eligible>
bool take_from(std::atomic<std::uint64_t>& word_ref, Eligible eligible) noexcept {
  std::uint64_t word = word_ref.load(std::memory_order_relaxed);
  while (eligible(slot_generation(word)) && slot_tokens(word) > 0) {
    if (word_ref.compare_exchange_weak(word, word - 1, std::memory_order_acquire,
                                       std::memory_order_relaxed))
      return true;
  }
  return false;
}

// Takes the oldest token left of a notify issued after `seen`, if any.
bool take_token(detail::ConditionState& state, std::uint32_t seen) noexcept {
  const std::uint32_t issued = state.issued.load(std::memory_order_acquire);
  const std::uint32_t behind = issued - seen;
  if (behind == 0) return false;
  const auto after_seen = [&](std::uint32_t generation) {
    return generation - seen - 1 < behind;  // seen < generation <= issued
  };
  if (take_from(state.older_tokens, after_seen)) return true;
  for (std::uint32_t generation = issued - std::min(behind, kSlots) + 1;
       generation != issued + 1; ++generation) {
    if (take_from(state.tokens[generation % kSlots],
                  [&](std::uint32_t in_slot) { return in_slot == generation; }))
      return true;
  }
  return false;
}

// Moves the tokens left in a reused slot (`reused`) to older_tokens.
void keep_older_tokens(detail::ConditionState& state, std::uint64_t reused) noexcept {
  if (slot_tokens(reused) == 0) return;
  std::uint64_t word = state.older_tokens.load(std::memory_order_relaxed);
  while (!state.older_tokens.compare_exchange_weak(
      word, slot_word(slot_generation(reused), slot_tokens(word) + slot_tokens(reused)),
      std::memory_order_release, std::memory_order_relaxed)) {
  }
}

}  // namespace

void Condition::require_owned(const char* what) const {
  if (!detail::lock_is_owned(*lock_)) throw RuntimeError(what);
}

bool Condition::wait_until(const weft::detail::Deadline& deadline) {
  require_owned("cannot wait on un-acquired lock");
  detail::ConditionState& state = *state_;
  const std::uint32_t seen = state.issued.load(std::memory_order_relaxed);
  ++state.sleepers;
  const std::uint32_t levels = detail::lock_release_save(*lock_);
  bool notified = false;
  for (;;) {
    const std::uint32_t issued = state.issued.load(std::memory_order_acquire);
    if (issued != seen && take_token(state, seen)) {
      notified = true;
      break;
    }
    if (!weft::detail::futex_wait(state.issued, issued, deadline, kShared)) break;
  }
  detail::lock_acquire_restore(*lock_, recursive_, levels);
  if (!notified) {
    notified = take_token(state, seen);
    if (!notified) --state.sleepers;
  }
  return notified;
}

void Condition::notify(std::size_t n) {
  require_owned("cannot notify on un-acquired lock");
  detail::ConditionState& state = *state_;
  const auto count = static_cast<std::uint32_t>(std::min<std::size_t>(n, state.sleepers));
  if (count == 0) return;
  const std::uint32_t generation = state.issued.load(std::memory_order_relaxed) + 1;
  keep_older_tokens(state, state.tokens[generation % kSlots].exchange(
                               slot_word(generation, count), std::memory_order_relaxed));
  state.sleepers -= count;
  state.issued.store(generation, std::memory_order_release);
  weft::detail::futex_wake(state.issued, static_cast<int>(std::min<std::uint32_t>(count, INT_MAX)),
                           kShared);
}

void Condition::notify_all() { notify(SIZE_MAX); }

Condition::Token Condition::share_with_child() const {
  const char* what = "Condition";
  return Token{recursive_, lock_.share_with_child(what), state_.share_with_child(what)};
}

Condition Condition::from_parent(const Token& token) {
  const auto& [recursive, lock, condition] = token;
  const auto kind = recursive ? detail::StateKind::rlock : detail::StateKind::lock;
  return Condition(LockHandle::from_parent(lock, kind),
                   recursive, State::from_parent(condition, detail::StateKind::condition));
}

}  // namespace weft::mp
