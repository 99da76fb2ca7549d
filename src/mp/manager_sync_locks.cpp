// The manager's "Lock" and "RLock": a ConnectionLock exposed to proxies.
#include <array>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_lock.hpp"
#include "manager_sync_objects.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedLock final : public Dispatching<ManagedLock> {
 public:
  explicit ManagedLock(bool recursive) : Dispatching(recursive ? "RLock" : "Lock"), lock_(recursive) {}

  bool acquire(Caller& caller, bool block, std::optional<double> timeout) {
    return lock_.acquire(caller, block, timeout);
  }
  void release(Caller& caller) { lock_.release(caller); }
  bool locked(Caller&) { return lock_.locked(); }

  void disconnected(std::uint64_t connection) override { lock_.disconnected(connection); }

  static std::span<const Method<ManagedLock>> methods() {
    static constexpr std::array<Method<ManagedLock>, 3> table{{
        {"acquire", &run<&ManagedLock::acquire>},
        {"release", &run<&ManagedLock::release>},
        {"locked", &run<&ManagedLock::locked>},
    }};
    return table;
  }

 private:
  ConnectionLock lock_;
};

}  // namespace

std::unique_ptr<Managed> make_lock(bool recursive) { return std::make_unique<ManagedLock>(recursive); }

}  // namespace weft::mp::manager::detail
