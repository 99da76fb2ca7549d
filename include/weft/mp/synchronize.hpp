// weft/mp/synchronize.hpp — Python's multiprocessing.synchronize: the
// process-shared Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition
// and Barrier, one header each.
#pragma once

#include "weft/mp/barrier.hpp"
#include "weft/mp/condition.hpp"
#include "weft/mp/event.hpp"
#include "weft/mp/lock.hpp"
#include "weft/mp/semaphore.hpp"
