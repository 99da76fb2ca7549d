// gevent.sleep and gevent.idle (weft/green/sleep.hpp).
#include "weft/green/sleep.hpp"

#include <algorithm>

#include "hub_impl.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::green {

namespace {

// Longer sleeps are cut to this, which the monotonic clock can hold.
constexpr std::chrono::duration<double> kLongest = std::chrono::hours(24 * 365 * 100);

}  // namespace

void sleep(std::chrono::duration<double> seconds) {
  weft::detail::reject_nan(seconds);
  Hub& hub = Hub::current();
  Hub::Impl& impl = Hub::Impl::of(hub);
  detail::GreenletImpl& self = Hub::Impl::running();
  if (&self == impl.hub_impl) throw error("the hub cannot sleep: a blocking call in a hub callback");
  if (seconds <= seconds.zero()) {
    if (impl.yield_returns_at_once(self)) return;
    hub.schedule(self);
    impl.park(self, "sleep");
    return;
  }
  const auto delay = std::chrono::ceil<Hub::Clock::duration>(std::min(seconds, kLongest));
  impl.park_until(self, "sleep", Hub::Clock::now() + delay);
}

void idle() {
  Hub& hub = Hub::current();
  Hub::Impl& impl = Hub::Impl::of(hub);
  detail::GreenletImpl& self = Hub::Impl::running();
  Hub::Impl::IdleWaiter waiter{&self, impl.idlers};
  impl.idlers = &waiter;
  struct Unlink {
    Hub::Impl& impl;
    Hub::Impl::IdleWaiter& waiter;
    ~Unlink() {
      for (Hub::Impl::IdleWaiter** at = &impl.idlers; *at != nullptr; at = &(*at)->next) {
        if (*at == &waiter) {
          *at = waiter.next;
          return;
        }
      }
    }
  } unlink{impl, waiter};
  impl.park(self, "idle");
}

}  // namespace weft::green
