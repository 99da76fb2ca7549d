// weft/detail/ticket_counter.hpp — a counting semaphore that can be closed:
// the engine of weft::Semaphore and of Queue<T>'s item and slot counts.
//
// `balance_` is the number of tickets minus the number of sleeping takers.
// A taker that finds no ticket registers by decrementing it and sleeps on
// `wakeups_`, a futex word of wake tokens; give() hands exactly one token to
// each registered sleeper it serves and nothing to anybody else, so each
// sleeper costs one wake-up system call, never one per give(). A taker
// spins briefly before it registers. close() sets a bit in `wakeups_`, which
// wakes every sleeper with no lost wake-up; tickets still counted can be
// taken after that.
#pragma once

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex.hpp"

namespace weft::detail {

class TicketCounter {
 public:
  static constexpr std::uint32_t kMax = 0x7fffffff;
  static constexpr int kDefaultSpins = 100;

  enum class Taken { yes, timed_out, closed };

  explicit TicketCounter(std::uint32_t initial = 0) noexcept : balance_(initial) {}
  TicketCounter(const TicketCounter&) = delete;
  TicketCounter& operator=(const TicketCounter&) = delete;

  bool try_take() noexcept {
    std::int64_t balance = balance_.load(std::memory_order_relaxed);
    while (balance > 0) {
      if (balance_.compare_exchange_weak(balance, balance - 1, std::memory_order_acquire,
                                         std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  // Takes one ticket if there is one, without waiting: `timed_out` means
  // none was left and the counter is open, `closed` that none was left
  // after it was closed.
  Taken take_now() noexcept {
    if (try_take()) return Taken::yes;
    if (!closed()) return Taken::timed_out;
    // A ticket given just before close() may have come after the look
    // above: only a look after seeing the close tells.
    return try_take() ? Taken::yes : Taken::closed;
  }

  // Takes one ticket, waiting until the deadline. Tickets left when the
  // counter is closed can still be taken; `closed` means none were left.
  // Spins `spins` times before sleeping.
  Taken take(const Deadline& deadline, int spins = kDefaultSpins) noexcept {
    for (int i = 0; i < spins; ++i) {
      if (const Taken taken = take_now(); taken != Taken::timed_out) return taken;
      cpu_relax();
    }
    if (balance_.fetch_sub(1, std::memory_order_acquire) > 0) return Taken::yes;
    return sleep(deadline);
  }

  // Adds n tickets, failing (and adding none) if the count would pass
  // `limit`. Wakes up to n sleepers.
  bool give(std::uint32_t n, std::uint32_t limit = kMax) noexcept {
    std::int64_t balance = balance_.load(std::memory_order_relaxed);
    do {
      if (n > limit || balance > static_cast<std::int64_t>(limit - n)) return false;
    } while (!balance_.compare_exchange_weak(balance, balance + n, std::memory_order_release,
                                             std::memory_order_relaxed));
    if (balance < 0) {
      const auto tokens = static_cast<std::uint32_t>(std::min<std::int64_t>(-balance, n));
      wakeups_.fetch_add(tokens, std::memory_order_release);
      futex_wake(wakeups_, tokens > INT_MAX ? INT_MAX : static_cast<int>(tokens));
    }
    return true;
  }

  // Wakes every sleeper for good; tickets still counted stay takeable.
  void close() noexcept {
    wakeups_.fetch_or(kClosed, std::memory_order_seq_cst);
    futex_wake_all(wakeups_);
  }

  bool closed() const noexcept { return (wakeups_.load(std::memory_order_acquire) & kClosed) != 0; }
  std::uint32_t count() const noexcept {
    return static_cast<std::uint32_t>(std::max<std::int64_t>(0, balance_.load(std::memory_order_acquire)));
  }

 private:
  static constexpr std::uint32_t kClosed = 0x80000000u;
  static constexpr std::uint32_t kTokens = ~kClosed;

  // Registered as a sleeper: wait for a wake token.
  Taken sleep(const Deadline& deadline) noexcept {
    for (;;) {
      std::uint32_t word = 0;
      if (take_token(word)) return Taken::yes;
      if ((word & kTokens) != 0) continue;
      if ((word & kClosed) != 0) {
        if (unregister()) return Taken::closed;
        continue;  // a giver already counted us in: its token is on its way
      }
      if (!futex_wait(wakeups_, word, deadline) && expired(deadline)) {
        if (unregister()) return Taken::timed_out;
        return take_assigned_token();
      }
    }
  }

  // Undoes the registration, unless a giver has already served it.
  bool unregister() noexcept {
    std::int64_t balance = balance_.load(std::memory_order_relaxed);
    while (balance < 0) {
      if (balance_.compare_exchange_weak(balance, balance + 1, std::memory_order_relaxed)) return true;
    }
    return false;
  }

  // Served, so no longer registered: only waits for the token.
  Taken take_assigned_token() noexcept {
    for (;;) {
      std::uint32_t word = 0;
      if (take_token(word)) return Taken::yes;
      if ((word & kTokens) == 0) futex_wait(wakeups_, word, std::nullopt);
    }
  }

  // Tries once to take a wake token; `word` receives what was seen (a
  // failed attempt with tokens left means a race: try again).
  bool take_token(std::uint32_t& word) noexcept {
    word = wakeups_.load(std::memory_order_acquire);
    return (word & kTokens) != 0 &&
           wakeups_.compare_exchange_strong(word, word - 1, std::memory_order_acquire, std::memory_order_relaxed);
  }

  alignas(64) std::atomic<std::int64_t> balance_;
  alignas(64) std::atomic<std::uint32_t> wakeups_{0};
};

}  // namespace weft::detail
