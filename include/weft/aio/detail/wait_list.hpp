// weft/aio/detail/wait_list.hpp — an intrusive FIFO of tasks waiting for
// something: a lock, an item, data on a stream, room in a buffer.
//
// `co_await list.wait()` suspends the running task at the back of the list;
// notify_one() wakes the longest waiter (it resumes in the next batch),
// notify_all() every one. A waiter cancelled while it waits leaves the list
// and throws CancelledError. A waiter woken and then cancelled before it ran
// also throws CancelledError (Python's rule: the cancellation wins), but
// woken() tells the primitive that it was woken, so that it can pass the
// wake-up on (see Waiter). Waiting allocates nothing: the node lives in the
// awaiting frame.
//
// Not thread-safe: the loop's thread only.
#pragma once

#include <coroutine>
#include <cstddef>

#include "weft/aio/detail/task_state.hpp"

namespace weft::aio::detail {

class WaitList {
 public:
  // One waiting task. Primitives that must react to "woken, then
  // cancelled" derive their awaiter from Waiter and check woken() in a
  // catch block around resume().
  class Waiter : private Suspension {
   public:
    explicit Waiter(WaitList& list) noexcept : Suspension{&on_cancel}, list_(&list) {}
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    ~Waiter() { list_->remove(*this); }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> awaiting) noexcept {
      task_ = &current_task_state();
      list_->push_back(*this);
      task_->suspend(awaiting, this);
    }
    // Throws CancelledError if the task was cancelled while it waited (or
    // after it was woken).
    void await_resume() { task_->throw_if_cancelled(); }

    // Whether notify_*() woke this waiter (as opposed to a cancellation).
    bool woken() const noexcept { return woken_; }

   private:
    friend class WaitList;
    static bool on_cancel(Suspension& self, TaskState& task) noexcept {
      auto& waiter = static_cast<Waiter&>(self);
      waiter.list_->remove(waiter);
      task.wake_cancelled();
      return true;
    }

    WaitList* list_;
    TaskState* task_ = nullptr;
    Waiter* prev_ = nullptr;
    Waiter* next_ = nullptr;
    bool linked_ = false;
    bool woken_ = false;
  };

  WaitList() = default;
  WaitList(const WaitList&) = delete;
  WaitList& operator=(const WaitList&) = delete;

  // The awaitable: `co_await list.wait();`
  Waiter wait() noexcept { return Waiter(*this); }

  // Wakes the longest waiter; false if none waits.
  bool notify_one() noexcept {
    Waiter* waiter = head_;
    if (waiter == nullptr) return false;
    remove(*waiter);
    waiter->woken_ = true;
    waiter->task_->wake();
    return true;
  }
  // Wakes every waiter; returns how many.
  std::size_t notify_all() noexcept {
    std::size_t woken = 0;
    while (notify_one()) ++woken;
    return woken;
  }

  bool empty() const noexcept { return head_ == nullptr; }
  std::size_t size() const noexcept { return size_; }

 private:
  void push_back(Waiter& waiter) noexcept {
    waiter.prev_ = tail_;
    waiter.next_ = nullptr;
    if (tail_ != nullptr) tail_->next_ = &waiter;
    else head_ = &waiter;
    tail_ = &waiter;
    waiter.linked_ = true;
    ++size_;
  }
  void remove(Waiter& waiter) noexcept {
    if (!waiter.linked_) return;
    if (waiter.prev_ != nullptr) waiter.prev_->next_ = waiter.next_;
    else head_ = waiter.next_;
    if (waiter.next_ != nullptr) waiter.next_->prev_ = waiter.prev_;
    else tail_ = waiter.prev_;
    waiter.linked_ = false;
    --size_;
  }

  Waiter* head_ = nullptr;
  Waiter* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace weft::aio::detail
