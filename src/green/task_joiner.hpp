// A wait for a Greenlet to finish (weft/green/greenlet_task.hpp): the link
// a join, a joinall or a wait() puts in the task's list of joiners.
#pragma once

#include "weft/green/greenlet_task.hpp"

namespace weft::green::detail {

// Linked into the task's joiners while it waits. When the task finishes it
// unlinks the joiner and wakes `greenlet` — or, if `notified` is set, calls
// notified(context) instead (gevent's rawlink). Unlinked on destruction if
// still linked; allocates nothing.
struct TaskBase::Joiner {
  Joiner() = default;
  Joiner(const Joiner&) = delete;
  Joiner& operator=(const Joiner&) = delete;
  ~Joiner() { detach(); }

  void attach(TaskBase& to, GreenletImpl& waiter) noexcept {
    greenlet = &waiter;
    notified = nullptr;
    link_to(to);
  }
  void attach(TaskBase& to, void (*on_finish)(void* context) noexcept, void* on_finish_context) noexcept {
    greenlet = nullptr;
    notified = on_finish;
    context = on_finish_context;
    link_to(to);
  }

  void detach() noexcept {
    if (!linked) return;
    if (prev != nullptr) {
      prev->next = next;
    } else {
      task->joiners_ = next;
    }
    if (next != nullptr) next->prev = prev;
    prev = next = nullptr;
    linked = false;
  }

  TaskBase* task = nullptr;
  GreenletImpl* greenlet = nullptr;
  void (*notified)(void* context) noexcept = nullptr;
  void* context = nullptr;
  Joiner* prev = nullptr;
  Joiner* next = nullptr;
  bool linked = false;

 private:
  void link_to(TaskBase& to) noexcept {
    detach();
    task = &to;
    next = task->joiners_;
    if (next != nullptr) next->prev = this;
    task->joiners_ = this;
    linked = true;
  }
};

}  // namespace weft::green::detail
