// weft::mp::Condition: notifications are tokens handed to the waiters that
// were registered when notify() ran.
//
// Under the lock, a waiter registers (sleepers + 1) and remembers how many
// notify calls had been made (`issued`). notify(n) turns up to n registered
// waiters into tokens and bumps `issued`, the futex word every waiter
// sleeps on. A waiter may take a token only once `issued` has moved past
// what it remembered, so a waiter that arrives after a notify never takes
// that notify's token. Any eligible waiter may take any token: if it was
// not itself one of those counted, it takes the place of the one it took
// the token from, who stays counted in `sleepers` — so a waiter that times
// out, back under the lock, either takes a token (and counts as notified)
// or un-registers, and the counts stay exact.
#include "weft/mp/condition.hpp"

#include <algorithm>
#include <climits>

#include "weft/detail/futex.hpp"
#include "weft/errors.hpp"

namespace weft::mp {
namespace {

constexpr auto kShared = weft::detail::FutexScope::process_shared;

// Takes a notification if one issued after `seen` is left.
bool take_token(detail::ConditionState& state, std::uint32_t seen) noexcept {
  if (state.issued.load(std::memory_order_acquire) == seen) return false;
  std::uint32_t tokens = state.tokens.load(std::memory_order_relaxed);
  while (tokens > 0) {
    if (state.tokens.compare_exchange_weak(tokens, tokens - 1, std::memory_order_acquire,
                                           std::memory_order_relaxed))
      return true;
  }
  return false;
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
  state.sleepers -= count;
  state.tokens.fetch_add(count, std::memory_order_relaxed);
  state.issued.fetch_add(1, std::memory_order_release);
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
