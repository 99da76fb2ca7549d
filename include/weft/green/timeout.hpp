// weft/green/timeout.hpp — gevent.Timeout: a limit on how long the greenlet
// that made it may block, and the exception raised when the limit passes.
//
//   try {
//     green::Timeout limit(2s);           // started now; cancelled at scope exit
//     fetch_everything();                 // any blocking call inside may throw it
//   } catch (const green::Timeout& t) {
//     if (t != limit) throw;              // (compare inside the scope) someone else's
//   }
//
// When the time passes, the greenlet that made the Timeout gets the Timeout
// (a copy of it, equal to it) — or the exception given to the constructor —
// raised at its blocking point: at once if it is parked, else at the next
// call that blocks. A Timeout cancelled or destroyed before then raises
// nothing, ever. with_timeout() wraps one call.
//
// Thread-safety: a Timeout belongs to the greenlet (and thread) that made it.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "weft/green/greenlet.hpp"
#include "weft/io/timer.hpp"

namespace weft::green {

class Timeout : public std::exception {
 public:
  // Starts a timeout of `seconds` for the calling greenlet (none: never
  // expires; zero or less: expires at its next blocking point). With an
  // `exception`, that is raised instead of the Timeout. Makes this thread's
  // hub if it has none. Never blocks. Throws ValueError for a NaN duration.
  explicit Timeout(std::optional<std::chrono::duration<double>> seconds, std::exception_ptr exception = nullptr);
  // Cancels it.
  ~Timeout() override;
  // A copy is the exception value: equal to the original, never started.
  Timeout(const Timeout& other) noexcept;
  Timeout& operator=(const Timeout&) = delete;

  // Disarms it (and drops its exception if it expired but has not been
  // raised yet: a greenlet it interrupted that has not run since goes on
  // waiting, or resumes with the wake that came for it meanwhile). Never
  // blocks; cancelling twice does nothing.
  void cancel() noexcept;
  // Started and not yet expired or cancelled.
  bool pending() const noexcept { return alarm_.scheduled(); }
  std::optional<std::chrono::duration<double>> seconds() const noexcept { return seconds_; }

  // "<seconds> seconds", as gevent says it ("1 second", "0.5 seconds").
  const char* what() const noexcept override { return text_; }

  // The same timeout: the original and the copies raised from it.
  friend bool operator==(const Timeout& a, const Timeout& b) noexcept { return a.id_ == b.id_; }

 private:
  struct Alarm final : io::Timer {
    explicit Alarm(Timeout& owner) noexcept : io::Timer(&fire), owner(&owner) {}
    static void fire(io::Timer& timer) noexcept;
    Timeout* owner;
  };

  std::optional<std::chrono::duration<double>> seconds_;
  std::exception_ptr exception_;
  std::uint64_t id_;
  greenlet target_;  // the greenlet it interrupts (empty for a copy)
  Alarm alarm_{*this};
  char text_[40] = {};
};

// Calls f(args...) under a Timeout of `seconds`: returns what it returns, or
// lets the Timeout propagate when the time passes. Blocks as f does.
template <class F, class... Args>
decltype(auto) with_timeout(std::chrono::duration<double> seconds, F&& f, Args&&... args) {
  Timeout timeout(seconds);
  return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
}

// The same, but returns `timeout_value` when this call's time passes
// (gevent's with_timeout(seconds, f, timeout_value=...)).
template <class T, class F, class... Args>
auto with_timeout_or(std::chrono::duration<double> seconds, T&& timeout_value, F&& f, Args&&... args)
    -> std::invoke_result_t<F&&, Args&&...> {
  Timeout timeout(seconds);
  try {
    return std::invoke(std::forward<F>(f), std::forward<Args>(args)...);
  } catch (const Timeout& expired) {
    if (expired != timeout) throw;
    return std::forward<T>(timeout_value);
  }
}

}  // namespace weft::green
