// weft/mp/event.hpp — weft::mp::Event, Python's multiprocessing.Event: a
// flag shared by a process and its children that any of them may wait on.
//
// The members are weft::Event's: wait() blocks until set() is called (or
// returns at once if it already was), clear() lowers the flag again, and
// set() wakes every waiter in every process. A handle is cheap to copy and
// every copy — here, in a forked child, or in a spawned child that received
// it as an argument — is the same event. A waiter returns true even if a
// clear() came before it woke, as in Python. is_set and clear make no
// system call, nor does set until somebody has waited on the event (a
// process killed inside set() must not leave the next set() unaware of
// sleepers: weft/detail/event_word.hpp); timed waits use the monotonic
// clock and a negative timeout counts as 0, as in Python.
//
// Thread- and process-safety: every member may be called concurrently from
// any thread of any process that has the event.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

#include "weft/codec.hpp"
#include "weft/detail/deadline.hpp"
#include "weft/detail/event_word.hpp"
#include "weft/mp/detail/shared_handle_codec.hpp"
#include "weft/mp/detail/shared_state.hpp"

namespace weft::mp {

class Event {
 public:
  // A new event, not set. Throws std::system_error if shared memory cannot
  // be had.
  Event() : state_(State::make(detail::StateKind::event, "Event", 1)) {}

  bool is_set() const noexcept { return weft::detail::event_word::is_set(word()); }

  // Raises the flag and wakes every waiter. Never blocks.
  void set() noexcept { weft::detail::event_word::set(word(), weft::detail::FutexScope::process_shared); }
  // Lowers the flag. Never blocks.
  void clear() noexcept { weft::detail::event_word::clear(word()); }

  // Blocks until the flag is raised; returns true.
  bool wait() { return is_set() || wait_until(std::nullopt); }
  // Blocks at most `timeout`; returns true unless it timed out.
  template <class Rep, class Period>
  bool wait(std::chrono::duration<Rep, Period> timeout) {
    return is_set() || wait_until(weft::detail::deadline_after_clamped(timeout));
  }

  // For weft::codec: the token under which a child being started finds this
  // event (throws codec::EncodeError outside a start), and the event behind
  // a token in that child (throws codec::DecodeError).
  std::uint32_t share_with_child() const { return state_.share_with_child("Event"); }
  static Event from_parent(std::uint32_t token) {
    return Event(State::from_parent(token, detail::StateKind::event));
  }

 private:
  using State = detail::SharedState<std::atomic<std::uint32_t>>;

  explicit Event(State state) noexcept : state_(std::move(state)) {}
  std::atomic<std::uint32_t>& word() const noexcept { return *state_; }
  bool wait_until(const weft::detail::Deadline& deadline) {
    return weft::detail::event_word::wait_until(word(), deadline, weft::detail::FutexScope::process_shared);
  }

  State state_;
};

}  // namespace weft::mp

namespace weft::mp::detail {

// An Event crosses to a child being started as its token (see
// shared_handle_codec.hpp).
template <>
struct SharedByToken<Event> : std::true_type {};

}  // namespace weft::mp::detail
