// weft/aio/detail/inline_wait.hpp — the slow path of an awaiter whose fast
// path needs no suspension at all.
//
// Some waits cannot end in one suspension: Python's Queue.get() waits again
// when the item it was woken for was taken by someone else first. Such an
// awaiter answers await_ready() from the fast path (nothing allocated, no
// trip through the loop) and otherwise starts a coroutine that loops over
// its suspensions: InlineWait runs it inline in the awaiting task, exactly
// as `co_await coroutine()` would, and finish() rethrows what it threw.
#pragma once

#include <coroutine>
#include <optional>
#include <utility>

#include "weft/aio/task.hpp"

namespace weft::aio::detail {

class InlineWait {
 public:
  // From await_suspend: runs `slow` in place of the awaiting coroutine,
  // which resumes when `slow` is done.
  std::coroutine_handle<> start(Task<void> slow, std::coroutine_handle<> awaiting) noexcept {
    slow_ = std::move(slow);
    awaiter_.emplace(std::move(slow_).operator co_await());
    return awaiter_->await_suspend(awaiting);
  }
  bool started() const noexcept { return awaiter_.has_value(); }
  // From await_resume: rethrows what the slow path threw.
  void finish() { awaiter_->await_resume(); }

 private:
  using Awaiter = decltype(std::declval<Task<void>>().operator co_await());
  Task<void> slow_;
  std::optional<Awaiter> awaiter_;
};

}  // namespace weft::aio::detail
