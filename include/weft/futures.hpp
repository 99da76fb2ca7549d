// weft/futures.hpp — Python's `concurrent.futures` for C++.
//
//   weft::futures::Future<T>           (weft/futures/future.hpp)
//   ThreadPoolExecutor, Executor::map  (weft/futures/thread_pool_executor.hpp, executor.hpp)
//   ProcessPoolExecutor                (weft/futures/process_pool_executor.hpp)
//   wait, as_completed, FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED
//                                      (weft/futures/wait.hpp)
//   when_all, when_any                 (weft/futures/combinators.hpp)
//   CancelledError, TimeoutError, InvalidStateError, BrokenExecutor,
//   BrokenThreadPool, BrokenProcessPool (weft/futures/errors.hpp)
#pragma once

#include "weft/futures/combinators.hpp"
#include "weft/futures/errors.hpp"
#include "weft/futures/executor.hpp"
#include "weft/futures/future.hpp"
#include "weft/futures/process_pool_executor.hpp"
#include "weft/futures/thread_pool_executor.hpp"
#include "weft/futures/wait.hpp"
