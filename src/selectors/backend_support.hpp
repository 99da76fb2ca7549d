// What the selector backends share: slicing a deadline into kernel waits,
// Python's translation of poll-style event bits, and OS errors.
#pragma once

#include <sys/time.h>

#include <chrono>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/key.hpp"

namespace weft::selectors::detail {

// One kernel wait on the way to a deadline. poll() and epoll_wait() take an
// int of milliseconds, so a longer wait is made of several slices.
struct Slice {
  bool forever;
  // The time left, >= 0, at most the longest slice.
  std::chrono::nanoseconds left;
  // The deadline lies beyond this slice: a wait that times out goes on.
  bool capped;
};

Slice next_slice(const weft::detail::Deadline& deadline) noexcept;

// poll()/epoll_wait()'s timeout: -1 forever, else the time left rounded up
// to milliseconds, so the wait lasts at least as long as asked.
int slice_ms(const Slice& slice) noexcept;

// select()'s timeout: nullptr forever, else `tv` filled with the time left
// rounded up to microseconds.
timeval* slice_timeval(const Slice& slice, timeval& tv) noexcept;

// Python's reading of poll()/epoll() bits: anything but "readable" (output,
// error, hang-up) makes a file writable, anything but "writable" makes it
// readable; the selector then keeps the events the file is registered for.
inline int selector_events(unsigned revents, unsigned in_bit, unsigned out_bit) noexcept {
  int events = 0;
  if ((revents & ~in_bit) != 0) events |= EVENT_WRITE;
  if ((revents & ~out_bit) != 0) events |= EVENT_READ;
  return events;
}

// Throws std::system_error for errno, naming the call that failed.
[[noreturn]] void throw_os_error(const char* call);

}  // namespace weft::selectors::detail
