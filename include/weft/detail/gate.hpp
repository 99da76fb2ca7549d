// weft/detail/gate.hpp — admission to an operation that a shutdown must be
// able to wait out: one word holding why the gate is closed (two reason
// bits) and how many callers are inside.
//
// try_enter() admits a caller unless the gate is closed; close(reason)
// refuses newcomers and then waits for those inside to leave(), so every
// operation either finishes before the close returns or is refused. The
// operations it guards are short (a queue put, a task submission): the
// wait spins, then yields.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "weft/detail/futex.hpp"

namespace weft::detail {

class Gate {
 public:
  static constexpr std::uint64_t kReasonA = 1;
  static constexpr std::uint64_t kReasonB = 2;

  // Admits the caller and returns 0, or returns the closing reasons (and
  // admits nobody).
  std::uint64_t try_enter() noexcept {
    const std::uint64_t word = word_.fetch_add(kOneInside, std::memory_order_seq_cst);
    if ((word & kReasons) == 0) return 0;
    leave();
    return word & kReasons;
  }
  void leave() noexcept { word_.fetch_sub(kOneInside, std::memory_order_seq_cst); }

  // Adds `reason`, then waits until nobody is inside.
  void close(std::uint64_t reason) noexcept {
    word_.fetch_or(reason, std::memory_order_seq_cst);
    await_empty();
  }
  void await_empty() const noexcept {
    for (int i = 0; word_.load(std::memory_order_seq_cst) >= kOneInside; ++i) {
      if (i < kSpins) cpu_relax(); else std::this_thread::yield();
    }
  }

  // The closing reasons so far (0 while open).
  std::uint64_t reasons() const noexcept { return word_.load(std::memory_order_seq_cst) & kReasons; }

 private:
  static constexpr std::uint64_t kReasons = kReasonA | kReasonB;
  static constexpr std::uint64_t kOneInside = 4;
  static constexpr int kSpins = 200;

  std::atomic<std::uint64_t> word_{0};
};

}  // namespace weft::detail
