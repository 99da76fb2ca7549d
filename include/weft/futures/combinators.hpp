// weft/futures/combinators.hpp — when_all and when_any: futures that
// complete when all, or any, of a group of futures do. Beyond Python.
//
// Neither blocks; the result is completed by the thread that completes the
// last (or first) input. The inputs are handed back (when_all) or named by
// index (when_any), so their values and exceptions stay inspectable.
// Cancelling the result leaves the inputs alone: their completion then
// finds the result cancelled and leaves it so.
//
// Thread-safety: may be called from any thread.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <tuple>
#include <utility>
#include <vector>

#include "weft/futures/future.hpp"

namespace weft::futures {

namespace detail {

// Completes `future` unless its holder cancelled it first.
template <class T, class... Args>
void set_result_unless_cancelled(Future<T>& future, Args&&... args) {
  try {
    future.set_result(std::forward<Args>(args)...);
  } catch (const InvalidStateError&) {
  }
}

// Completes a future with `futures` once `count` of them are done;
// for_each(futures, arm) calls arm(state) for each one's state.
template <class Futures, class ForEach>
Future<Futures> gather(Futures futures, std::size_t count, ForEach for_each) {
  Future<Futures> all;
  if (count == 0) {
    all.set_result(std::move(futures));
    return all;
  }
  struct Gathering {
    Gathering(Futures f, std::size_t n, Future<Futures> a) : futures(std::move(f)), remaining(n), all(std::move(a)) {}
    Futures futures;
    std::atomic<std::size_t> remaining;
    Future<Futures> all;
  };
  auto gathering = std::make_shared<Gathering>(std::move(futures), count, all);
  for_each(gathering->futures, [gathering](StateBase& state) {
    state.add_done_callback([gathering] {
      if (gathering->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
        set_result_unless_cancelled(gathering->all, std::move(gathering->futures));
    });
  });
  return all;
}

}  // namespace detail

// Completes, with the same futures, once every one of them is done.
template <class T>
Future<std::vector<Future<T>>> when_all(std::vector<Future<T>> futures) {
  const std::size_t count = futures.size();
  return detail::gather(std::move(futures), count, [](auto& all, auto arm) {
    for (auto& future : all) arm(future.state());
  });
}

// The variadic form: completes with a tuple of the futures.
template <class... Ts>
Future<std::tuple<Future<Ts>...>> when_all(Future<Ts>... futures) {
  return detail::gather(std::tuple<Future<Ts>...>(futures...), sizeof...(Ts), [](auto& all, auto arm) {
    std::apply([&](auto&... future) { (arm(future.state()), ...); }, all);
  });
}

// Completes with the index of the first of `futures` to be done. Throws
// ValueError for an empty vector (it would never complete).
template <class T>
Future<std::size_t> when_any(const std::vector<Future<T>>& futures) {
  if (futures.empty()) throw ValueError("when_any() of no futures");
  struct First {
    std::atomic<bool> fired{false};
    Future<std::size_t> any;
  };
  auto first = std::make_shared<First>();
  Future<std::size_t> any = first->any;
  for (std::size_t i = 0; i < futures.size(); ++i) {
    futures[i].state().add_done_callback([first, i] {
      if (!first->fired.exchange(true, std::memory_order_acq_rel)) detail::set_result_unless_cancelled(first->any, i);
    });
  }
  return any;
}

}  // namespace weft::futures
