// weft/futures/executor.hpp — what every weft executor shares: Python's
// Executor.map on top of the executor's own submit(), and MapOptions.
//
// map(f, xs, ys, ...) submits f(x, y, ...) for each position of the ranges
// (stopping at the shortest) at once, and returns a lazy range of results
// in submission order: advancing blocks until the next result is ready and
// re-throws its exception; with a timeout, throws TimeoutError once the
// deadline (counted from the map() call) passes. Destroying the range once
// iteration has begun (begin(), next() or to_vector() called) cancels the
// results not yet consumed, as Python does when its generator is closed;
// destroying a range never iterated lets every call run, as dropping
// Python's unstarted generator does (`ex.map(f, xs);` alone runs them all).
//
// Thread-safety: map() may be called from any thread; a result range is
// used by one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/futures/detail/pull_iterator.hpp"
#include "weft/futures/future.hpp"

namespace weft::futures {

struct MapOptions {
  // Nanoseconds hold about 292 years: a longer duration of a coarser type
  // (hours::max()) wraps around as it converts; leave it empty for none.
  std::optional<std::chrono::nanoseconds> timeout = {};
  // Items per task: used by process pools, accepted and ignored by thread
  // pools (as in Python).
  std::size_t chunksize = 1;
};

// The results of map(), in order.
template <class R>
class MapResults {
 public:
  MapResults(std::vector<Future<R>> futures, weft::detail::Deadline deadline)
      : futures_(std::move(futures)), deadline_(deadline) {}
  MapResults(MapResults&&) noexcept = default;
  MapResults& operator=(MapResults&&) noexcept = default;
  // Cancels the results not yet consumed if iteration has begun.
  ~MapResults() {
    if (!started_) return;
    for (std::size_t i = next_; i < futures_.size(); ++i) futures_[i].cancel();
  }

  // Blocks for the next result and returns it (by value); nothing at the end.
  std::optional<std::conditional_t<std::is_void_v<R>, std::monostate, R>> next() {
    started_ = true;
    if (next_ == futures_.size()) return std::nullopt;
    Future<R>& future = futures_[next_++];
    if (!future.state().wait_done(deadline_)) {
      future.cancel();  // as Python's _result_or_cancel: it never runs if it has not started
      throw TimeoutError("map() result not ready in time");
    }
    if constexpr (std::is_void_v<R>) {
      future.result();
      return std::monostate{};
    } else {
      return future.result();
    }
  }

  using value_type = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
  using iterator = detail::PullIterator<MapResults, value_type>;

  iterator begin() {
    started_ = true;
    return iterator(this);
  }
  iterator end() { return iterator(); }

  // All results at once (blocks for each).
  std::vector<value_type> to_vector() {
    std::vector<value_type> all;
    while (auto value = next()) all.push_back(std::move(*value));
    return all;
  }

 private:
  std::vector<Future<R>> futures_;
  weft::detail::Deadline deadline_;
  std::size_t next_ = 0;
  bool started_ = false;
};

// CRTP base: an executor supplies submit(f, args...) -> Future<R> and
// shutdown(wait, cancel_futures); this adds map().
template <class Derived>
class Executor {
 public:
  template <class F, class... Ranges>
  auto map(F&& f, Ranges&&... ranges) {
    return map(MapOptions{}, std::forward<F>(f), std::forward<Ranges>(ranges)...);
  }

  template <class F, class... Ranges>
  auto map(MapOptions options, F&& f, Ranges&&... ranges) {
    static_assert(sizeof...(Ranges) > 0, "map() needs at least one range");
    const weft::detail::Deadline deadline =
        options.timeout ? weft::detail::deadline_after_clamped(*options.timeout) : std::nullopt;
    using R = std::invoke_result_t<std::decay_t<F>&, std::ranges::range_value_t<Ranges>...>;
    std::vector<Future<R>> futures;
    auto its = std::make_tuple(std::ranges::begin(ranges)...);
    const auto ends = std::make_tuple(std::ranges::end(ranges)...);
    auto any_at_end = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return ((std::get<I>(its) == std::get<I>(ends)) || ...);
    };
    auto submit_one = [&]<std::size_t... I>(std::index_sequence<I...>) {
      futures.push_back(self().submit(f, *std::get<I>(its)...));
      (++std::get<I>(its), ...);
    };
    constexpr auto indices = std::index_sequence_for<Ranges...>{};
    while (!any_at_end(indices)) submit_one(indices);
    return MapResults<R>(std::move(futures), deadline);
  }

 private:
  Derived& self() { return static_cast<Derived&>(*this); }
};

}  // namespace weft::futures
