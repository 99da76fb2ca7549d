// weft/dist.hpp — weft::dist, scale-out on Redis: the futures Executor and
// a Queue<T> whose state lives in a Redis server, served by `weft worker`
// processes on any number of hosts. Link weft::dist (it brings hiredis).
//
//   weft/dist/registry.hpp  WEFT_DIST_TASK: the functions workers may run
//   weft/dist/executor.hpp  dist::Executor: submit, map, shutdown
//   weft/dist/worker.hpp    run_worker, and what `weft worker` runs
//   weft/dist/queue.hpp     dist::Queue<T>: put/get/task_done/join, maxsize
//   weft/dist/redis.hpp     RedisUrl, RedisConnection (reconnects with backoff)
//   weft/dist/errors.hpp    RedisConnectionError, DeadLetterError, TaskTimeoutError, ...
#pragma once

#include "weft/dist/errors.hpp"
#include "weft/dist/executor.hpp"
#include "weft/dist/queue.hpp"
#include "weft/dist/redis.hpp"
#include "weft/dist/registry.hpp"
#include "weft/dist/worker.hpp"
