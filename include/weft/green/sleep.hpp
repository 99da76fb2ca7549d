// weft/green/sleep.hpp — gevent.sleep and gevent.idle: waiting without
// holding up the other greenlets of the thread.
#pragma once

#include <chrono>

namespace weft::green {

// Parks the calling greenlet for `seconds`; every other greenlet runs
// meanwhile. sleep(0s) only yields: it returns once every greenlet that was
// already ready to run has run. From the main greenlet it runs the hub.
// Throws what is raised at its blocking point (a Timeout expiring,
// GreenletExit from kill); green::error when called from the hub greenlet;
// ValueError for a NaN duration.
void sleep(std::chrono::duration<double> seconds);
inline void sleep() { sleep(std::chrono::duration<double>::zero()); }

// gevent.idle: parks the calling greenlet until the hub has nothing else to
// do (no greenlet ready to run, no event ready in the loop).
void idle();

}  // namespace weft::green
