// src/io/op_queue.hpp — an intrusive FIFO of io::Operation, linked through
// Operation::next_; what the epoll backend keeps per fd and direction, and
// both backends' queue of results delivered without waiting.
#pragma once

#include "weft/io/operation.hpp"

namespace weft::io::detail {

class OpQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  Operation* front() const noexcept { return head_; }

  void push_back(Operation& op) noexcept {
    op.next_ = nullptr;
    if (tail_ != nullptr) tail_->next_ = &op;
    else head_ = &op;
    tail_ = &op;
  }

  Operation* pop_front() noexcept {
    Operation* op = head_;
    if (op != nullptr) {
      head_ = op->next_;
      if (head_ == nullptr) tail_ = nullptr;
      op->next_ = nullptr;
    }
    return op;
  }

  // Unlinks `op` if it is queued here; returns whether it was. O(length).
  bool remove(Operation& op) noexcept {
    Operation* previous = nullptr;
    for (Operation* it = head_; it != nullptr; previous = it, it = it->next_) {
      if (it != &op) continue;
      if (previous != nullptr) previous->next_ = it->next_;
      else head_ = it->next_;
      if (tail_ == it) tail_ = previous;
      it->next_ = nullptr;
      return true;
    }
    return false;
  }

  // Moves every operation out, leaving this queue empty.
  OpQueue take() noexcept {
    OpQueue taken = *this;
    head_ = tail_ = nullptr;
    return taken;
  }

 private:
  Operation* head_ = nullptr;
  Operation* tail_ = nullptr;
};

}  // namespace weft::io::detail
