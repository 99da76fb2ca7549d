// weft/multiprocessing.hpp — Python's `multiprocessing` module for C++:
// processes and everything they share.
//
//   Process, ProcessOptions, ProcessHandle, current_process,
//   parent_process, active_children, SystemExit   (weft/mp/process.hpp)
//   StartMethod, set_start_method, get_start_method,
//   get_all_start_methods, get_context            (weft/mp/context.hpp)
//   Pipe, Connection                              (weft/mp/connection.hpp)
//   Listener, Client                              (weft/mp/listener.hpp)
//   wait (multiprocessing.connection.wait)        (weft/mp/wait.hpp)
//   deliver_challenge, answer_challenge           (weft/mp/authentication.hpp)
//   Queue, SimpleQueue, JoinableQueue             (weft/mp/queues.hpp)
//   net::Socket as an argument or item            (weft/mp/reduction.hpp)
//   Value, Array, RawValue, RawArray              (weft/mp/sharedctypes.hpp)
//   SharedMemory                                  (weft/mp/shared_memory.hpp)
//   Lock, RLock, Semaphore, BoundedSemaphore,
//   Event, Condition, Barrier                     (weft/mp/synchronize.hpp)
//   Pool, PoolOptions, AsyncResult, IMapIterator  (weft/mp/pool.hpp)
//   Manager, BaseManager, the proxies, Server,
//   ManagerGoneError                              (weft/mp/managers.hpp)
//   ProcessError, AuthenticationError,
//   BufferTooShort                                (weft/mp/errors.hpp)
//   RemoteError, WorkerLostError,
//   register_exception                            (weft/mp/remote_error.hpp)
//
// Values cross process boundaries through weft::codec (MessagePack);
// functions go by reference (weft/codec/function.hpp). Every object that
// lives in shared memory is an anonymous memfd: nothing is left behind in
// /dev/shm, whichever process dies first. Locks are robust: a process that
// dies holding one does not deadlock the others.
#pragma once

#include "weft/codec.hpp"
#include "weft/mp/authentication.hpp"
#include "weft/mp/connection.hpp"
#include "weft/mp/context.hpp"
#include "weft/mp/cpu_count.hpp"
#include "weft/mp/errors.hpp"
#include "weft/mp/listener.hpp"
#include "weft/mp/managers.hpp"
#include "weft/mp/pool.hpp"
#include "weft/mp/process.hpp"
#include "weft/mp/queues.hpp"
#include "weft/mp/reduction.hpp"
#include "weft/mp/remote_error.hpp"
#include "weft/mp/shared_memory.hpp"
#include "weft/mp/sharedctypes.hpp"
#include "weft/mp/synchronize.hpp"
#include "weft/mp/wait.hpp"
