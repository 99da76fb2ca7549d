// weft::selectors: the argument checks every selector shares and the
// slicing of a deadline into kernel waits.
#include <cerrno>
#include <climits>
#include <string>
#include <system_error>

#include "backend_support.hpp"
#include "weft/errors.hpp"
#include "weft/selectors/detail/checks.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors::detail {

void check_events(int events) {
  if (events == 0 || (events & ~(EVENT_READ | EVENT_WRITE)) != 0)
    throw ValueError("Invalid events: " + std::to_string(events));
}

void check_fd(int fd) {
  if (fd < 0) throw ValueError("Invalid file descriptor: " + std::to_string(fd));
}

void throw_not_registered(int fd) {
  check_fd(fd);
  throw KeyError(std::to_string(fd) + " is not registered");
}

void throw_already_registered(int fd) {
  const std::string n = std::to_string(fd);
  throw KeyError(n + " (FD " + n + ") is already registered");
}

void throw_closed() { throw RuntimeError("Selector is closed"); }

namespace {

constexpr std::chrono::milliseconds kLongestSlice{INT_MAX};

}  // namespace

Slice next_slice(const weft::detail::Deadline& deadline) noexcept {
  if (!deadline) return {true, {}, false};
  const auto now = weft::detail::Clock::now();
  if (*deadline <= now) return {false, {}, false};
  const auto left = *deadline - now;
  if (left > kLongestSlice) return {false, kLongestSlice, true};
  return {false, left, false};
}

int slice_ms(const Slice& slice) noexcept {
  if (slice.forever) return -1;
  return static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice.left).count());
}

timeval* slice_timeval(const Slice& slice, timeval& tv) noexcept {
  if (slice.forever) return nullptr;
  const auto us = std::chrono::ceil<std::chrono::microseconds>(slice.left).count();
  tv.tv_sec = static_cast<time_t>(us / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(us % 1'000'000);
  return &tv;
}

void throw_os_error(const char* call) { throw std::system_error(errno, std::generic_category(), call); }

}  // namespace weft::selectors::detail
