// weft::Timer: a thread that waits on its own cancellation event.
#include "weft/threading/timer.hpp"

namespace weft {

Timer::~Timer() {
  if (daemon()) cancel();
  if (ident() && handle() != current_thread()) join();
}

// The function is moved out before it is called, and the object is not
// touched after: the function may destroy its own Timer.
void Timer::run() {
  if (finished_.wait(interval_)) return;
  finished_.set();
  auto function = std::move(function_);
  function();
}

}  // namespace weft
