// weft/mp/pool/imap.hpp — weft::mp::IMapIterator<R>, what Pool::imap and
// Pool::imap_unordered return: Python's IMapIterator.
//
// Results stream: next() returns a result as soon as it (and, for imap,
// every result before it) has arrived, while later tasks still run. A task
// that threw re-throws from next() at its position (in completion order for
// imap_unordered), and the iteration can go on past it. next() returns
// nothing once every result was returned; next(timeout) throws
// weft::TimeoutError if the next result does not arrive in time. Like
// AsyncResult::get(), a next() that would block on a pool thread throws
// RuntimeError.
//
// The iterator is a range (begin()/end()): `for (int x : pool.imap(f, xs))`;
// dereferencing re-throws as next() does.
//
// Thread-safety: one thread iterates; the pool thread fills it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/errors.hpp"
#include "weft/futures/detail/pull_iterator.hpp"
#include "weft/mp/detail/worker_pool_tasks.hpp"

namespace weft::mp {

namespace detail {

// Results as they arrive, in order (imap) or in completion order.
template <class R>
class IMapState {
 public:
  struct Item {
    std::optional<Stored<R>> value;
    std::exception_ptr error;
  };

  IMapState(std::size_t size, bool ordered) : ordered_(ordered), size_(size) {
    if (ordered_) slots_.resize(size);
  }

  void chunk_done(std::size_t start, ChunkOutcome<R>&& chunk) noexcept {
    std::vector<Item> items(chunk.values.size());
    for (std::size_t i = 0; i < items.size(); ++i) items[i].value.emplace(std::move(chunk.values[i]));
    for (auto& [index, error] : chunk.errors) {
      if (index >= items.size()) continue;
      items[index].value.reset();
      items[index].error = error;
    }
    deliver(start, std::move(items));
  }
  void chunk_failed(std::size_t start, std::size_t count, std::exception_ptr error) noexcept {
    std::vector<Item> items(count);
    for (auto& item : items) item.error = error;
    deliver(start, std::move(items));
  }

  // The next item; nullopt at the end, or when `deadline` passes (then
  // `timed_out` is set).
  std::optional<Item> next(const weft::detail::Deadline& deadline, bool& timed_out) {
    std::unique_lock lock(mutex_);
    if (returned_ == size_) return std::nullopt;
    auto has_next = [&] { return ordered_ ? slots_[returned_].has_value() : !arrived_.empty(); };
    if (!has_next()) {
      if (WorkerPool::on_pool_thread())
        throw RuntimeError("cannot wait for a pool result on a pool's own thread (in a callback)");
      if (deadline) {
        if (!ready_.wait_until(lock, *deadline, has_next)) {
          timed_out = true;
          return std::nullopt;
        }
      } else {
        ready_.wait(lock, has_next);
      }
    }
    Item item;
    if (ordered_) {
      item = std::move(*slots_[returned_]);
      slots_[returned_].reset();
    } else {
      item = std::move(arrived_.front());
      arrived_.pop_front();
    }
    ++returned_;
    return item;
  }

 private:
  void deliver(std::size_t start, std::vector<Item>&& items) noexcept {
    {
      std::lock_guard lock(mutex_);
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (ordered_) {
          if (start + i < size_) slots_[start + i].emplace(std::move(items[i]));
        } else {
          arrived_.push_back(std::move(items[i]));
        }
      }
    }
    ready_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  const bool ordered_;
  const std::size_t size_;
  std::size_t returned_ = 0;
  std::vector<std::optional<Item>> slots_;  // ordered
  std::deque<Item> arrived_;                // unordered
};

}  // namespace detail

template <class R>
class IMapIterator {
 public:
  using value_type = detail::Stored<R>;
  using iterator = futures::detail::PullIterator<IMapIterator, value_type>;

  explicit IMapIterator(std::shared_ptr<detail::IMapState<R>> state) noexcept : state_(std::move(state)) {}

  // Blocks for the next result; nothing at the end. Re-throws a task's
  // exception at its position.
  std::optional<value_type> next() { return next_until(std::nullopt); }
  // The same, throwing weft::TimeoutError after `timeout`.
  template <class Rep, class Period>
  std::optional<value_type> next(std::chrono::duration<Rep, Period> timeout) {
    return next_until(weft::detail::deadline_after_clamped(timeout));
  }

  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  std::optional<value_type> next_until(const weft::detail::Deadline& deadline) {
    bool timed_out = false;
    auto item = state_->next(deadline, timed_out);
    if (timed_out) throw TimeoutError("the next result is not ready");
    if (!item) return std::nullopt;
    if (item->error) std::rethrow_exception(item->error);
    return std::move(item->value);
  }

  std::shared_ptr<detail::IMapState<R>> state_;
};

}  // namespace weft::mp
