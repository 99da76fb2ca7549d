// weft/threading/timer.hpp — weft::Timer, Python's threading.Timer.
//
// A thread that calls function(args...) once `interval` has passed, unless
// cancel() is called first. Like every non-daemon thread, a Timer is joined
// when destroyed, which waits for it to fire; cancel() first to drop it.
// The function may destroy its own Timer (a one-shot timer that drops
// itself): that destructor does not join.
//
// Thread-safety: cancel() and the Thread members may be called from any
// thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <tuple>
#include <utility>

#include "weft/detail/deadline.hpp"
#include "weft/threading/event.hpp"
#include "weft/threading/thread.hpp"

namespace weft {

class Timer : public Thread {
 public:
  template <class Rep, class Period, class F, class... Args>
    requires std::is_invocable_v<std::decay_t<F>, std::decay_t<Args>...>
  Timer(std::chrono::duration<Rep, Period> interval, F&& function, Args&&... args)
      // A negative interval fires at once, as Python's Event.wait(-x)
      // does not wait; one too large for nanoseconds never fires. A NaN
      // interval throws ValueError here, not in the timer's thread.
      : interval_(std::max(detail::ceil_nanoseconds_saturated(interval), std::chrono::nanoseconds::zero())),
        function_([fn = std::forward<F>(function),
                   bound = std::make_tuple(std::forward<Args>(args)...)]() mutable {
          std::apply(fn, std::move(bound));
        }) {}

  ~Timer() override;

  // Stops the timer if it has not fired yet. Never blocks.
  void cancel() noexcept { finished_.set(); }

  void run() override;

 private:
  std::chrono::nanoseconds interval_;
  detail::UniqueFunction<void()> function_;
  Event finished_;
};

}  // namespace weft
