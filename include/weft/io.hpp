// weft/io.hpp — the event-loop core: io::Loop with its epoll and io_uring
// backends, caller-owned Operations and Timers, and buffer pools for
// multishot receives. greenlets (weft::green) and asyncio (weft::aio) both
// run on it; weft's IO-model servers use it directly.
#pragma once

#include "weft/io/buffer_pool.hpp"
#include "weft/io/loop.hpp"
#include "weft/io/operation.hpp"
#include "weft/io/timer.hpp"
