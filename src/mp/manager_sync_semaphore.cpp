// The manager's "Semaphore" and "BoundedSemaphore".
//
// A BoundedSemaphore is a guard — every release pairs with an acquire — so
// what a connection acquired and did not release is given back when the
// connection ends. A plain Semaphore is often a signal (released by one
// process, acquired by another), so nothing is given back for it.
#include <array>
#include <map>
#include <mutex>

#include "manager_sync_dispatch.hpp"
#include "manager_sync_objects.hpp"
#include "manager_sync_wait.hpp"
#include "weft/threading/semaphore.hpp"

namespace weft::mp::manager::detail {

namespace {

class ManagedSemaphore final : public Dispatching<ManagedSemaphore> {
 public:
  ManagedSemaphore(long long value, bool bounded)
      : Dispatching(bounded ? "BoundedSemaphore" : "Semaphore"), bounded_(bounded) {
    if (bounded) {
      semaphore_ = &bounded_semaphore_.emplace(value);
    } else {
      semaphore_ = &plain_semaphore_.emplace(value);
    }
  }

  bool acquire(Caller& caller, bool block, std::optional<double> timeout) {
    if (!block && timeout) throw ValueError("can't specify a timeout for a non-blocking call");
    const bool got =
        wait_for(caller, block, timeout, NegativeTimeout::counts_as_zero, [&](std::chrono::nanoseconds slice) {
          return slice == slice.zero() ? semaphore_->acquire(false) : semaphore_->acquire(slice);
        });
    if (got && bounded_) {
      std::lock_guard guard(book_);
      if (unbooked_releases_ > 0) {
        --unbooked_releases_;  // released already, before it was booked
      } else {
        ++held_[caller.connection()];
      }
      if (!caller.connected()) {
        give_back(caller.connection());
        require_connected(caller);
      }
    }
    return got;
  }

  // Throws ValueError when a BoundedSemaphore would exceed its initial value.
  void release(Caller& caller) {
    if (!bounded_) {
      semaphore_->release();
      return;
    }
    std::lock_guard guard(book_);
    semaphore_->release();
    // The unit comes off the releaser's booking. A release made on another
    // connection's behalf takes it off that one's (any other's: the server
    // cannot tell which), or off an acquire not yet booked, so that no unit
    // is given back twice.
    auto entry = held_.find(caller.connection());
    if (entry == held_.end()) entry = held_.begin();
    if (entry == held_.end()) {
      ++unbooked_releases_;
      return;
    }
    if (--entry->second == 0) held_.erase(entry);
  }

  // The counter's value (Python's private _value, for diagnostics).
  std::uint32_t value(Caller&) { return semaphore_->value(); }

  void disconnected(std::uint64_t connection) override {
    if (!bounded_) return;
    std::lock_guard guard(book_);
    give_back(connection);
  }

  static std::span<const Method<ManagedSemaphore>> methods() {
    static constexpr std::array<Method<ManagedSemaphore>, 3> table{{
        {"acquire", &run<&ManagedSemaphore::acquire>},
        {"release", &run<&ManagedSemaphore::release>},
        {"get_value", &run<&ManagedSemaphore::value>},
    }};
    return table;
  }

 private:
  // With book_ held. Releases the units `connection` is booked for (each
  // still out, as a release made on its behalf took one off its booking);
  // stops at the bound all the same.
  void give_back(std::uint64_t connection) {
    auto entry = held_.find(connection);
    if (entry == held_.end()) return;
    for (std::size_t n = entry->second; n > 0; --n) {
      try {
        semaphore_->release();
      } catch (const ValueError&) {
        break;
      }
    }
    held_.erase(entry);
  }

  const bool bounded_;
  std::optional<Semaphore> plain_semaphore_;
  std::optional<BoundedSemaphore> bounded_semaphore_;
  Semaphore* semaphore_ = nullptr;  // whichever of the two is there
  std::mutex book_;
  std::map<std::uint64_t, std::size_t> held_;  // what each connection holds
  // Releases made while the acquire they released was not booked yet.
  std::size_t unbooked_releases_ = 0;
};

}  // namespace

std::unique_ptr<Managed> make_semaphore(std::string_view args, bool bounded) {
  auto [value] = codec::decode<std::tuple<std::optional<long long>>>(args);
  return std::make_unique<ManagedSemaphore>(value.value_or(1), bounded);
}

}  // namespace weft::mp::manager::detail
