// weft/asyncio.hpp — Python's asyncio in C++20 coroutines (weft::aio).
//
//   aio::Task<T>              an `async def` returning T (co_await runs it inline)
//   aio::run, aio::Runner     run a main coroutine on a new event loop
//   aio::EventLoop            call_soon, call_later, call_soon_threadsafe, ...
//                             add_signal_handler, remove_signal_handler
//   aio::create_task          schedule a coroutine as a task → TaskHandle<T>
//   aio::Future<T>            asyncio.Future: loop.create_future<T>(), set_result,
//                             set_exception, cancel, add_done_callback; ensure_future
//   aio::sleep                suspend the task (0 yields)
//   aio::gather, wait, as_completed, wait_for, timeout, TaskGroup, shield
//   aio::Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier
//   aio::Queue<T>, LifoQueue<T>, PriorityQueue<T>
//   aio::to_thread, run_in_executor, wrap_future, run_coroutine_threadsafe
//   aio::open_connection, start_server → StreamReader, StreamWriter, Server
//   aio::create_subprocess_exec, create_subprocess_shell → Process
//   aio::Generator<T>         a synchronous generator with co_yield and send
//   aio::AsyncGenerator<T>    an async generator: co_await and co_yield, anext,
//                             asend, athrow, aclose (StreamReader::lines())
#pragma once

#include "weft/aio/async_generator.hpp"
#include "weft/aio/barrier.hpp"
#include "weft/aio/condition.hpp"
#include "weft/aio/errors.hpp"
#include "weft/aio/event.hpp"
#include "weft/aio/event_loop.hpp"
#include "weft/aio/future.hpp"
#include "weft/aio/gather.hpp"
#include "weft/aio/generator.hpp"
#include "weft/aio/held.hpp"
#include "weft/aio/lock.hpp"
#include "weft/aio/outcome.hpp"
#include "weft/aio/queue.hpp"
#include "weft/aio/runner.hpp"
#include "weft/aio/semaphore.hpp"
#include "weft/aio/shield.hpp"
#include "weft/aio/sleep.hpp"
#include "weft/aio/streams.hpp"
#include "weft/aio/subprocess.hpp"
#include "weft/aio/task.hpp"
#include "weft/aio/task_group.hpp"
#include "weft/aio/threads.hpp"
#include "weft/aio/timeout.hpp"
#include "weft/aio/wait.hpp"
