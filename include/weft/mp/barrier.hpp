// weft/mp/barrier.hpp — weft::mp::Barrier, Python's multiprocessing.Barrier:
// a barrier shared by a process and its children.
//
// The members are weft::Barrier's. `parties` threads — in any processes —
// meet at wait(); when the last one arrives, it runs the optional action,
// and all are released together, each returning a distinct index in
// [0, parties). The barrier then resets itself for the next round. It
// breaks — every current and future wait() throws BrokenBarrierError until
// reset() — when abort() is called, when a wait times out (that waiter and
// all others throw), or when the action throws (the action's exception
// propagates from that one wait(); the others get BrokenBarrierError).
// reset() wakes current waiters with BrokenBarrierError and makes the
// barrier usable again.
//
// A handle is cheap to copy and every copy is the same barrier, with the
// same default timeout. The action is a function of this process: a forked
// child inherits it with the handle, but a barrier with an action cannot be
// sent to a spawned child (encoding it throws codec::EncodeError); there,
// let the process whose wait() returns 0 do the action's work instead.
//
// Not robust to a dying party, as in Python: a process killed in wait()
// stays counted in its round. That round is released once the others have
// arrived (one live party short of `parties`), and it never ends: a wait()
// for the next round blocks until its timeout (for ever without one),
// which breaks the barrier. reset() recovers it: every party still counted
// is dropped, dead or alive (a live one returns its index if its round was
// released, and throws BrokenBarrierError otherwise), and the next round
// starts at once. A process killed inside the barrier's short critical
// section breaks the barrier. Give the barrier a timeout when parties may
// die, and reset() it after a BrokenBarrierError.
//
// Thread- and process-safety: every member may be called concurrently from
// any thread of any process that has the barrier.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/mp/detail/robust_mutex.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/detail/shared_state.hpp"
#include "weft/threading/barrier.hpp"

namespace weft::mp {

using weft::BrokenBarrierError;

namespace detail {

struct BarrierState {
  BarrierState(std::uint32_t parties, std::int64_t timeout_ns) noexcept
      : parties(parties), timeout_ns(timeout_ns) {}
  RobustMutex mutex;
  std::atomic<std::uint32_t> changed{0};  // bumped at every change of state; the futex word
  const std::uint32_t parties;
  const std::int64_t timeout_ns;  // the default timeout, or -1 for none
  // Written under the mutex; atomic so that n_waiting() and broken() can read them without it.
  std::atomic<std::uint32_t> state{0};  // a Barrier::Phase
  std::atomic<std::uint32_t> count{0};  // parties in the current round
  // Changes only when a round is abandoned (see Barrier::reset): a round that ends normally
  // is left by all its parties before the next one starts.
  std::uint32_t round = 0;
  std::uint64_t released_rounds = 0;  // bit round % 64: that abandoned round had been released
};

}  // namespace detail

class Barrier {
 public:
  using Action = std::function<void()>;

  // Throws ValueError if parties is zero or above 2^32 - 1;
  // std::system_error if shared memory cannot be had. A negative timeout,
  // here or in wait(), counts as 0 (the barrier breaks unless full), as in
  // Python.
  explicit Barrier(std::size_t parties, Action action = {},
                   std::optional<std::chrono::nanoseconds> timeout = std::nullopt);

  // Blocks until `parties` threads have called wait(), or until the default
  // timeout given at construction. Returns this thread's arrival index.
  // The timeout also bounds the wait for the previous round's parties to
  // leave. Throws BrokenBarrierError if the barrier is or becomes broken;
  // a timeout breaks it.
  std::size_t wait();
  // The same with an explicit timeout for this call.
  template <class Rep, class Period>
  std::size_t wait(std::chrono::duration<Rep, Period> timeout) {
    return wait_until(weft::detail::deadline_after_clamped(timeout));
  }

  // Breaks the barrier: waiters and later callers get BrokenBarrierError.
  void abort();
  // Returns the barrier to its initial state at once; current waiters get
  // BrokenBarrierError (those already released return their index), and
  // parties still counted, such as one that died waiting, no longer count.
  void reset();

  std::size_t parties() const noexcept { return state_->parties; }
  // Threads currently waiting (0 while draining or broken), and whether the
  // barrier is broken. Never block: the action may call them.
  std::size_t n_waiting() const noexcept;
  bool broken() const noexcept;

  // For weft::codec: the token under which a child being started finds this
  // barrier (throws codec::EncodeError outside a start, or if the barrier
  // has an action), and the barrier behind a token in that child, without
  // an action (throws codec::DecodeError).
  std::uint32_t share_with_child() const;
  static Barrier from_parent(std::uint32_t token);

 private:
  enum class Phase : std::uint32_t { filling, draining, broken };
  using State = detail::SharedState<detail::BarrierState>;
  class Held;

  explicit Barrier(State state) noexcept : state_(std::move(state)) {}

  std::size_t wait_until(const weft::detail::Deadline& deadline);
  Phase phase() const noexcept { return static_cast<Phase>(state_->state.load()); }
  void set_phase(Phase phase) const noexcept { state_->state = static_cast<std::uint32_t>(phase); }
  void enter(Held& held, const weft::detail::Deadline& deadline);
  void release_all();
  void wait_released(Held& held, std::uint32_t round, const weft::detail::Deadline& deadline);
  void exit_one() noexcept;
  void abandon_round(Phase next) noexcept;
  bool released_before_abandoned(std::uint32_t round) const noexcept;
  void break_barrier() const noexcept;
  void changed() const noexcept;

  State state_;
  Action action_;
};

}  // namespace weft::mp

namespace weft::mp::detail {

// A Barrier crosses to a child being started as its token (see
// shared_handle_codec.hpp).
template <>
struct SharedByToken<Barrier> : std::true_type {};

}  // namespace weft::mp::detail
