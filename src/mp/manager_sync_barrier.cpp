// The manager's "Barrier": Python's threading.Barrier, with its waits cut
// into slices. A waiter whose client hangs up breaks the barrier, as a
// timeout does: the round can no longer complete with every party, so the
// others get BrokenBarrierError instead of waiting for a process that is
// gone.
#include <array>
#include <mutex>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"
#include "weft/threading/barrier.hpp"
#include "weft/threading/condition.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedBarrier final : public Dispatching<ManagedBarrier> {
 public:
  ManagedBarrier(std::size_t parties, std::optional<double> timeout)
      : Dispatching("Barrier"), parties_(parties), timeout_(timeout), changed_(lock_) {
    if (parties == 0) throw ValueError("parties must be >= 1");
    if (timeout) deadline_for(timeout, NegativeTimeout::counts_as_zero);
  }

  // Blocks until `parties` waiters arrived; returns this one's arrival
  // index. Throws BrokenBarrierError as described above.
  std::size_t wait(Caller& caller, std::optional<double> timeout) {
    const auto deadline = deadline_for(timeout ? timeout : timeout_, NegativeTimeout::counts_as_zero);
    std::unique_lock guard(lock_);
    enter(caller);
    const std::size_t index = count_++;
    struct Leave {
      ManagedBarrier& barrier;
      ~Leave() {
        --barrier.count_;
        barrier.exit();
      }
    } leave{*this};
    if (index + 1 == parties_) {
      state_ = State::draining;
      changed_.notify_all();
    } else {
      bool released = false;
      try {
        released = wait_in_slices(caller, deadline, [&](std::chrono::nanoseconds slice) {
          return state_ != State::filling || (changed_.wait(slice), state_ != State::filling);
        });
      } catch (const ManagerGoneError&) {
        break_barrier();
        throw;
      }
      if (!released) break_barrier();
      if (state_ == State::broken || state_ == State::resetting) throw BrokenBarrierError();
    }
    return index;
  }

  void abort(Caller&) {
    std::lock_guard guard(lock_);
    break_barrier();
  }

  void reset(Caller&) {
    std::lock_guard guard(lock_);
    if (count_ > 0) {
      if (state_ == State::filling || state_ == State::broken) state_ = State::resetting;
    } else {
      state_ = State::filling;
    }
    changed_.notify_all();
  }

  std::size_t parties(Caller&) { return parties_; }
  std::size_t n_waiting(Caller&) {
    std::lock_guard guard(lock_);
    return state_ == State::filling ? count_ : 0;
  }
  bool broken(Caller&) {
    std::lock_guard guard(lock_);
    return state_ == State::broken;
  }

  static std::span<const Method<ManagedBarrier>> methods() {
    static constexpr std::array<Method<ManagedBarrier>, 6> table{{
        {"wait", &run<&ManagedBarrier::wait>},
        {"abort", &run<&ManagedBarrier::abort>},
        {"reset", &run<&ManagedBarrier::reset>},
        {"parties", &run<&ManagedBarrier::parties>},
        {"n_waiting", &run<&ManagedBarrier::n_waiting>},
        {"broken", &run<&ManagedBarrier::broken>},
    }};
    return table;
  }

 private:
  enum class State { filling, draining, resetting, broken };

  // With lock_ held: waits while the previous round drains or resets.
  void enter(Caller& caller) {
    wait_in_slices(caller, std::nullopt, [&](std::chrono::nanoseconds slice) {
      const auto settled = [&] { return state_ != State::draining && state_ != State::resetting; };
      return settled() || (changed_.wait(slice), settled());
    });
    if (state_ == State::broken) throw BrokenBarrierError();
  }

  // With lock_ held: the last one out of a drained or reset round opens
  // the next.
  void exit() {
    if (count_ == 0 && (state_ == State::draining || state_ == State::resetting)) {
      state_ = State::filling;
      changed_.notify_all();
    }
  }

  void break_barrier() {
    state_ = State::broken;
    changed_.notify_all();
  }

  const std::size_t parties_;
  const std::optional<double> timeout_;
  weft::Lock lock_;
  weft::Condition changed_;
  State state_ = State::filling;
  std::size_t count_ = 0;
};

}  // namespace

std::unique_ptr<Managed> make_barrier(std::string_view args) {
  auto [parties, timeout] = codec::decode<std::tuple<std::size_t, std::optional<double>>>(args);
  return std::make_unique<ManagedBarrier>(parties, timeout);
}

}  // namespace weft::mp::manager::detail
