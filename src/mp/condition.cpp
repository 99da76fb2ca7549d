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
// or of one that has not run since) move, with their generation, to a free
// entry of `older_tokens` (kConditionGenerations more, unordered; a bit of
// `older_in_use` marks each entry notify has filled), and every waiter is
// woken to look for them there. Only when every entry still holds tokens do
// the two oldest merge, under the later generation: then a waiter that
// began between the two (and has waited through at least twice
// kConditionGenerations notify calls) may take a token of the earlier one,
// and the waiter that token was for takes the next notification instead.
// Tokens left for 2^31 notify calls are dropped, before the 32-bit
// generations wrap round to them.
#include "weft/mp/condition.hpp"

#include <algorithm>
#include <bit>
#include <climits>
#include <utility>

#include "weft/detail/futex.hpp"
#include "weft/errors.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;
constexpr std::uint32_t kSlots = detail::kConditionGenerations;
// How often (in notify calls) notify drops tokens left for 2^31 of them.
constexpr std::uint32_t kAncientSweep = 1u << 16;

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

// How many notify calls before `issued` the generation in `word` was.
std::uint32_t age(std::uint32_t issued, std::uint64_t word) noexcept {
  return issued - slot_generation(word);
}

// Takes the oldest token in older_tokens whose generation `eligible` allows.
template <class Eligible>
bool take_older_token(detail::ConditionState& state, std::uint32_t issued,
                      Eligible eligible) noexcept {
  for (;;) {
    std::atomic<std::uint64_t>* oldest = nullptr;
    std::uint64_t oldest_word = 0;
    for (std::uint32_t in_use = state.older_in_use.load(std::memory_order_acquire); in_use != 0;
         in_use &= in_use - 1) {
      std::atomic<std::uint64_t>& entry = state.older_tokens[std::countr_zero(in_use)];
      const std::uint64_t word = entry.load(std::memory_order_relaxed);
      if (slot_tokens(word) == 0 || !eligible(slot_generation(word))) continue;
      if (oldest == nullptr || age(issued, word) > age(issued, oldest_word)) {
        oldest = &entry;
        oldest_word = word;
      }
    }
    if (oldest == nullptr) return false;
    if (take_from(*oldest, [&](std::uint32_t in_entry) {
          return in_entry == slot_generation(oldest_word);
        }))
      return true;
  }
}

// Takes the oldest token left of a notify issued after `seen`, if any.
bool take_token(detail::ConditionState& state, std::uint32_t seen) noexcept {
  const std::uint32_t issued = state.issued.load(std::memory_order_acquire);
  const std::uint32_t behind = issued - seen;
  if (behind == 0) return false;
  const auto after_seen = [&](std::uint32_t generation) {
    return generation - seen - 1 < behind;  // seen < generation <= issued
  };
  if (behind > kSlots && take_older_token(state, issued, after_seen)) return true;
  for (std::uint32_t generation = issued - std::min(behind, kSlots) + 1;
       generation != issued + 1; ++generation) {
    if (take_from(state.tokens[generation % kSlots],
                  [&](std::uint32_t in_slot) { return in_slot == generation; }))
      return true;
  }
  return false;
}

// The entry of older_tokens that the tokens left in a reused slot go to:
// one never filled or emptied since, else the oldest, its tokens merged into
// the next oldest. Called by notify, under the lock: only notify fills
// entries, and an empty entry stays empty until notify fills it again.
int free_older_entry(detail::ConditionState& state, std::uint32_t issued) noexcept {
  const std::uint32_t in_use = state.older_in_use.load(std::memory_order_relaxed);
  int oldest = -1;
  int next_oldest = -1;
  const auto older = [&](int a, int b) {
    return b < 0 || age(issued, state.older_tokens[a].load(std::memory_order_relaxed)) >
                        age(issued, state.older_tokens[b].load(std::memory_order_relaxed));
  };
  for (int entry = 0; entry < static_cast<int>(kSlots); ++entry) {
    if ((in_use >> entry & 1) == 0 ||
        slot_tokens(state.older_tokens[entry].load(std::memory_order_relaxed)) == 0)
      return entry;
    if (older(entry, oldest)) {
      next_oldest = std::exchange(oldest, entry);
    } else if (older(entry, next_oldest)) {
      next_oldest = entry;
    }
  }
  const std::uint64_t merged = state.older_tokens[oldest].exchange(
      slot_word(slot_generation(state.older_tokens[oldest].load(std::memory_order_relaxed)), 0),
      std::memory_order_relaxed);
  state.older_tokens[next_oldest].fetch_add(slot_tokens(merged), std::memory_order_relaxed);
  return oldest;
}

// Moves the tokens left in a reused slot (`reused`) to older_tokens, with
// their generation; returns whether there were any.
bool keep_older_tokens(detail::ConditionState& state, std::uint32_t issued,
                       std::uint64_t reused) noexcept {
  if (slot_tokens(reused) == 0) return false;
  const int entry = free_older_entry(state, issued);
  state.older_tokens[entry].store(reused, std::memory_order_relaxed);
  state.older_in_use.fetch_or(std::uint32_t{1} << entry, std::memory_order_relaxed);
  return true;
}

// Drops the tokens left for 2^31 notify calls or more, before `issued` wraps
// round to their generation. Called by notify, under the lock.
void drop_ancient_tokens(detail::ConditionState& state, std::uint32_t issued) noexcept {
  for (std::uint32_t in_use = state.older_in_use.load(std::memory_order_relaxed); in_use != 0;
       in_use &= in_use - 1) {
    std::atomic<std::uint64_t>& entry = state.older_tokens[std::countr_zero(in_use)];
    std::uint64_t word = entry.load(std::memory_order_relaxed);
    while (age(issued, word) >= 0x80000000u && slot_tokens(word) > 0 &&
           !entry.compare_exchange_weak(word, slot_word(slot_generation(word), 0),
                                        std::memory_order_relaxed)) {
    }
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
  if (generation % kAncientSweep == 0) drop_ancient_tokens(state, generation);
  const bool kept = keep_older_tokens(
      state, generation,
      state.tokens[generation % kSlots].exchange(slot_word(generation, count),
                                                 std::memory_order_relaxed));
  state.sleepers -= count;
  state.issued.store(generation, std::memory_order_release);
  // Tokens moved to older_tokens were out of sight for a moment: whoever
  // looked then must look again.
  weft::detail::futex_wake(state.issued,
                           kept ? INT_MAX : static_cast<int>(std::min<std::uint32_t>(count, INT_MAX)),
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
