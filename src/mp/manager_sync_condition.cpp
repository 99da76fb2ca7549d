// The manager's "Condition": Python's threading.Condition over an RLock
// owned by a client connection.
#include <array>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_lock.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"
#include "weft/threading/condition.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedCondition final : public Dispatching<ManagedCondition> {
 public:
  ManagedCondition() : Dispatching("Condition"), lock_(true), condition_(lock_.lock()) {}

  bool acquire(Caller& caller, bool block, std::optional<double> timeout) {
    return lock_.acquire(caller, block, timeout);
  }
  void release(Caller& caller) { lock_.release(caller); }
  bool locked(Caller&) { return lock_.locked(); }

  // Releases the lock, waits for a notify, re-takes the lock. A wait whose
  // client hangs up lets go of the lock.
  bool wait(Caller& caller, std::optional<double> timeout) {
    const auto deadline = deadline_for(timeout, NegativeTimeout::counts_as_zero);
    const std::uint32_t levels = lock_.disown(caller, "cannot wait on un-acquired lock");
    bool notified = false;
    try {
      notified = wait_in_slices(caller, deadline,
                                [&](std::chrono::nanoseconds slice) { return condition_.wait(slice); });
    } catch (const ManagerGoneError&) {
      lock_.lock().release();
      throw;
    }
    lock_.own(caller, levels);
    return notified;
  }

  void notify(Caller& caller, std::size_t n) {
    lock_.require_owner(caller, "cannot notify on un-acquired lock");
    condition_.notify(n);
  }
  void notify_all(Caller& caller) {
    lock_.require_owner(caller, "cannot notify on un-acquired lock");
    condition_.notify_all();
  }

  void disconnected(std::uint64_t connection) override { lock_.disconnected(connection); }

  static std::span<const Method<ManagedCondition>> methods() {
    static constexpr std::array<Method<ManagedCondition>, 6> table{{
        {"acquire", &run<&ManagedCondition::acquire>},
        {"release", &run<&ManagedCondition::release>},
        {"locked", &run<&ManagedCondition::locked>},
        {"wait", &run<&ManagedCondition::wait>},
        {"notify", &run<&ManagedCondition::notify>},
        {"notify_all", &run<&ManagedCondition::notify_all>},
    }};
    return table;
  }

 private:
  ConnectionLock lock_;
  weft::Condition condition_;
};

}  // namespace

std::unique_ptr<Managed> make_condition() { return std::make_unique<ManagedCondition>(); }

}  // namespace weft::mp::manager::detail
