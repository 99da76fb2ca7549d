// weft/futures/wait.hpp — futures::wait and futures::as_completed, Python's
// concurrent.futures.wait and as_completed.
//
// wait(futures, timeout, return_when) blocks until FIRST_COMPLETED (any
// future done), FIRST_EXCEPTION (any finished by an exception; otherwise
// like ALL_COMPLETED) or ALL_COMPLETED, or until the timeout, and returns
// the futures split into done and not_done. It never throws on timeout.
//
// as_completed(futures, timeout) is a range that yields each future as it
// completes — those already done first — blocking for the next; once the
// timeout passes with futures outstanding, advancing throws TimeoutError.
// Duplicates are yielded once.
//
// A cancelled future counts as completed (not as an exception) as soon as
// it is cancelled.
//
// Thread-safety: may be called from any thread, also concurrently on the
// same futures. An as_completed range is used by one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/detail/futex_mutex.hpp"
#include "weft/detail/wait_queue.hpp"
#include "weft/futures/detail/pull_iterator.hpp"
#include "weft/futures/future.hpp"

namespace weft::futures {

enum class ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;

template <class T>
struct DoneAndNotDone {
  std::vector<Future<T>> done;
  std::vector<Future<T>> not_done;
};

namespace detail {

// Collects completions of a set of futures, in completion order.
class Completions final : public Observer {
 public:
  template <class T>
  explicit Completions(const std::vector<Future<T>>& futures) : states_(futures.size()) {
    for (std::size_t i = 0; i < futures.size(); ++i) states_[i] = &futures[i].state();
    for (std::size_t i = 0; i < states_.size(); ++i) {
      if (states_[i]->observe(this, i)) completed(i);
    }
  }
  Completions(const Completions&) = delete;
  Completions& operator=(const Completions&) = delete;
  ~Completions() {
    for (StateBase* state : states_) state->unobserve(this);
  }

  void completed(std::size_t index) noexcept override {
    std::lock_guard held(mutex_);
    order_.push_back(index);
    arrived_.notify_all();
  }

  // Waits until `enough(order)` (the completion order so far) or the
  // deadline; returns how many futures have completed.
  template <class Enough>
  std::size_t await(const Deadline& deadline, Enough enough) {
    std::unique_lock held(mutex_);
    while (!enough(order_)) {
      if (!arrived_.wait(deadline, [this] { mutex_.unlock(); }, [this] { mutex_.lock(); }) && !enough(order_))
        break;
    }
    return order_.size();
  }

  // The index of the n-th future to complete (n < what await() returned).
  std::size_t nth(std::size_t n) {
    std::unique_lock held(mutex_);
    return order_[n];
  }

  std::size_t size() const noexcept { return states_.size(); }

 private:
  std::vector<StateBase*> states_;
  weft::detail::FutexMutex mutex_;
  weft::detail::WaitQueue arrived_;
  std::vector<std::size_t> order_;
};

template <class T>
std::vector<Future<T>> unique(const std::vector<Future<T>>& futures) {
  std::vector<Future<T>> result;
  std::unordered_set<const void*> seen;
  for (const auto& future : futures) {
    if (seen.insert(future.id()).second) result.push_back(future);
  }
  return result;
}

template <class T>
DoneAndNotDone<T> wait_until(const std::vector<Future<T>>& input, const Deadline& deadline, ReturnWhen when) {
  const std::vector<Future<T>> futures = unique(input);
  auto failed = [&](std::size_t i) {
    return !futures[i].cancelled() && futures[i].state().error_when_done() != nullptr;
  };
  {
    Completions completions(futures);
    completions.await(deadline, [&](const std::vector<std::size_t>& order) {
      if (order.size() == futures.size()) return true;
      if (when == FIRST_COMPLETED) return !order.empty();
      if (when == FIRST_EXCEPTION) {
        for (std::size_t i : order)
          if (failed(i)) return true;
      }
      return false;
    });
  }
  DoneAndNotDone<T> split;
  for (const auto& future : futures) (future.done() ? split.done : split.not_done).push_back(future);
  return split;
}

}  // namespace detail

template <class T>
DoneAndNotDone<T> wait(const std::vector<Future<T>>& futures, ReturnWhen return_when = ALL_COMPLETED) {
  return detail::wait_until(futures, std::nullopt, return_when);
}
template <class T, class Rep, class Period>
DoneAndNotDone<T> wait(const std::vector<Future<T>>& futures, std::chrono::duration<Rep, Period> timeout,
                       ReturnWhen return_when = ALL_COMPLETED) {
  return detail::wait_until(futures, weft::detail::deadline_after_clamped(timeout), return_when);
}

// The range as_completed() returns.
template <class T>
class AsCompleted {
 public:
  AsCompleted(const std::vector<Future<T>>& futures, weft::detail::Deadline deadline)
      : futures_(detail::unique(futures)), completions_(futures_), deadline_(deadline) {}
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;

  // Blocks for the next completed future; nothing once all were yielded.
  // Throws TimeoutError once the deadline passes with futures outstanding.
  std::optional<Future<T>> next() {
    if (yielded_ == futures_.size()) return std::nullopt;
    const std::size_t completed =
        completions_.await(deadline_, [&](const std::vector<std::size_t>& o) { return o.size() > yielded_; });
    if (completed <= yielded_) {
      throw TimeoutError(std::to_string(futures_.size() - yielded_) + " (of " + std::to_string(futures_.size()) +
                         ") futures unfinished");
    }
    return futures_[completions_.nth(yielded_++)];
  }

  using iterator = detail::PullIterator<AsCompleted, Future<T>>;

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  std::vector<Future<T>> futures_;
  detail::Completions completions_;
  weft::detail::Deadline deadline_;
  std::size_t yielded_ = 0;
};

template <class T>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures) {
  return AsCompleted<T>(futures, std::nullopt);
}
template <class T, class Rep, class Period>
AsCompleted<T> as_completed(const std::vector<Future<T>>& futures, std::chrono::duration<Rep, Period> timeout) {
  return AsCompleted<T>(futures, weft::detail::deadline_after_clamped(timeout));
}

}  // namespace weft::futures
