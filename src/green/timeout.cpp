// gevent's Timeout (weft/green/timeout.hpp).
#include "weft/green/timeout.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>

#include "hub_impl.hpp"
#include "weft/detail/deadline.hpp"

namespace weft::green {

namespace {

std::atomic<std::uint64_t> next_timeout_id{1};

// The longest timeout the monotonic clock can hold from now on, with room.
constexpr std::chrono::duration<double> kLongest = std::chrono::hours(24 * 365 * 100);

}  // namespace

Timeout::Timeout(std::optional<std::chrono::duration<double>> seconds, std::exception_ptr exception)
    : seconds_(seconds),
      exception_(std::move(exception)),
      id_(next_timeout_id.fetch_add(1, std::memory_order_relaxed)) {
  if (!seconds_) return;
  weft::detail::reject_nan(*seconds_);
  const double count = seconds_->count();
  std::snprintf(text_, sizeof text_, "%g second%s", count, count == 1.0 ? "" : "s");
  if (*seconds_ >= kLongest) return;
  Hub& hub = Hub::current();
  target_ = greenlet::getcurrent();
  const auto delay = std::max(*seconds_, std::chrono::duration<double>::zero());
  hub.loop().start_timer(alarm_, Hub::Clock::now() + std::chrono::ceil<Hub::Clock::duration>(delay));
}

Timeout::Timeout(const Timeout& other) noexcept
    : std::exception(other), seconds_(other.seconds_), exception_(other.exception_), id_(other.id_) {
  std::memcpy(text_, other.text_, sizeof text_);
}

Timeout::~Timeout() { cancel(); }

void Timeout::cancel() noexcept {
  if (alarm_.scheduled()) {
    if (Hub* hub = Hub::current_if_any()) hub->loop().cancel_timer(alarm_);
  }
  if (!target_.empty()) Hub::Impl::cancel_pending(*target_.get(), this);
}

void Timeout::Alarm::fire(io::Timer& timer) noexcept {
  Timeout& timeout = *static_cast<Alarm&>(timer).owner;
  std::exception_ptr raised = timeout.exception_ ? timeout.exception_ : std::make_exception_ptr(Timeout(timeout));
  Hub::Impl::current().interrupt(*timeout.target_.get(), std::move(raised), &timeout, false);
}

}  // namespace weft::green
