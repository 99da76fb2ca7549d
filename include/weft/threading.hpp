// weft/threading.hpp — Python's `threading` module for C++.
//
//   weft::Thread, Timer, current_thread, main_thread, active_count,
//   enumerate, excepthook           (weft/threading/thread.hpp, timer.hpp)
//   weft::Lock, RLock               (weft/threading/lock.hpp)
//   weft::Condition                 (weft/threading/condition.hpp)
//   weft::Semaphore, BoundedSemaphore (weft/threading/semaphore.hpp)
//   weft::Event                     (weft/threading/event.hpp)
//   weft::Barrier                   (weft/threading/barrier.hpp)
//   weft::local<T>                  (weft/threading/local.hpp)
//   deadlock detection              (weft/threading/deadlock.hpp)
//
// Same names and semantics as Python's module, without a GIL: threads run
// in parallel. Every timed wait takes a std::chrono duration and measures it
// on the monotonic clock.
#pragma once

#include "weft/errors.hpp"
#include "weft/threading/barrier.hpp"
#include "weft/threading/condition.hpp"
#include "weft/threading/deadlock.hpp"
#include "weft/threading/event.hpp"
#include "weft/threading/local.hpp"
#include "weft/threading/lock.hpp"
#include "weft/threading/semaphore.hpp"
#include "weft/threading/thread.hpp"
#include "weft/threading/timer.hpp"
