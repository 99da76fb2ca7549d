// weft/gevent.hpp — Python's gevent for C++: greenlets scheduled by a hub
// per thread on weft's event loop, with gevent's names and semantics.
//
//   Hub, LoopExit, dump                 (weft/green/hub.hpp)
//   Greenlet, spawn, spawn_later, joinall, killall
//                                       (weft/green/greenlet_task.hpp)
//   sleep, idle                         (weft/green/sleep.hpp)
//   Timeout, with_timeout               (weft/green/timeout.hpp)
//   Event                               (weft/green/event.hpp)
//   AsyncResult                         (weft/green/async_result.hpp)
//   Queue, JoinableQueue, LifoQueue, PriorityQueue
//                                       (weft/green/queue.hpp)
//   Channel                             (weft/green/channel.hpp)
//   Semaphore, BoundedSemaphore, Lock, RLock
//                                       (weft/green/lock.hpp)
//   wait, iwait, Waitable               (weft/green/wait_objects.hpp)
//   wait_read, wait_write, wait_readable, wait_writable, close_fd
//                                       (weft/green/wait.hpp)
//   Pool, Group                         (weft/green/pool.hpp)
//   socket                              (weft/green/socket.hpp)
//   StreamServer                        (weft/green/server.hpp)
//   signal_handler, SignalHandler       (weft/green/signal.hpp)
//   monkey::patch_all                   (weft/green/monkey.hpp)
//
// The greenlet itself (switch_, throw_, parent) is <weft/greenlet.hpp>.
#pragma once

#include "weft/green/async_result.hpp"
#include "weft/green/channel.hpp"
#include "weft/green/event.hpp"
#include "weft/green/greenlet.hpp"
#include "weft/green/greenlet_task.hpp"
#include "weft/green/hub.hpp"
#include "weft/green/lock.hpp"
#include "weft/green/monkey.hpp"
#include "weft/green/pool.hpp"
#include "weft/green/queue.hpp"
#include "weft/green/server.hpp"
#include "weft/green/signal.hpp"
#include "weft/green/sleep.hpp"
#include "weft/green/socket.hpp"
#include "weft/green/timeout.hpp"
#include "weft/green/wait.hpp"
#include "weft/green/wait_objects.hpp"
