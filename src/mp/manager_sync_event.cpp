// The manager's "Event": Python's threading.Event.
#include <array>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"
#include "weft/threading/event.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedEvent final : public Dispatching<ManagedEvent> {
 public:
  ManagedEvent() : Dispatching("Event") {}

  bool is_set(Caller&) { return event_.is_set(); }
  void set(Caller&) { event_.set(); }
  void clear(Caller&) { event_.clear(); }
  bool wait(Caller& caller, std::optional<double> timeout) {
    return wait_in_slices(caller, deadline_for(timeout, NegativeTimeout::counts_as_zero),
                          [&](std::chrono::nanoseconds slice) { return event_.wait(slice); });
  }

  static std::span<const Method<ManagedEvent>> methods() {
    static constexpr std::array<Method<ManagedEvent>, 4> table{{
        {"is_set", &run<&ManagedEvent::is_set>},
        {"set", &run<&ManagedEvent::set>},
        {"clear", &run<&ManagedEvent::clear>},
        {"wait", &run<&ManagedEvent::wait>},
    }};
    return table;
  }

 private:
  weft::Event event_;
};

}  // namespace

std::unique_ptr<Managed> make_event() { return std::make_unique<ManagedEvent>(); }

}  // namespace weft::mp::manager::detail
