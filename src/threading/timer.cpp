// weft::Timer: a thread that waits on its own cancellation event.
#include "weft/threading/timer.hpp"

namespace weft {

Timer::~Timer() {
  if (daemon()) cancel();
  if (ident()) join();
}

void Timer::run() {
  if (!finished_.wait(interval_)) function_();
  finished_.set();
}

}  // namespace weft
