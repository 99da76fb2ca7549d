// The intrusive FIFO of parked greenlets (weft/green/detail/wait_list.hpp).
#include "weft/green/detail/wait_list.hpp"

namespace weft::green::detail {

void WaitList::push_back(WaitNode& node) noexcept {
  node.prev = tail_;
  node.next = nullptr;
  if (tail_ != nullptr) {
    tail_->next = &node;
  } else {
    head_ = &node;
  }
  tail_ = &node;
  node.linked = true;
  ++size_;
}

void WaitList::remove(WaitNode& node) noexcept {
  if (node.prev != nullptr) {
    node.prev->next = node.next;
  } else {
    head_ = node.next;
  }
  if (node.next != nullptr) {
    node.next->prev = node.prev;
  } else {
    tail_ = node.prev;
  }
  node.prev = node.next = nullptr;
  node.linked = false;
  --size_;
}

bool WaitList::notify_one(Notice notice) noexcept {
  WaitNode* node = head_;
  if (node == nullptr) return false;
  remove(*node);
  node->notice = notice;
  if (node->notified != nullptr) {
    node->notified(node->payload);
    return true;
  }
  // A false return means the waiter's park already ended another way (its
  // deadline, an exception thrown in); it finds the notice when it resumes.
  node->hub->wake(*node->greenlet);
  return true;
}

std::size_t WaitList::notify_all(Notice notice) noexcept {
  std::size_t count = 0;
  while (notify_one(notice)) ++count;
  return count;
}

Waiter::Waiter(WaitList& list, void* payload) : list_(list) {
  node_.hub = &Hub::current();
  node_.payload = payload;
  node_.greenlet = greenlet::getcurrent().get();
  list_.push_back(node_);
}

Waiter::~Waiter() {
  if (node_.linked) list_.remove(node_);
}

Notice Waiter::wait(const char* what, const Deadline& deadline) {
  // Only a notice ends the wait: a wake-up from elsewhere parks again.
  while (node_.notice == kNoNotice) {
    if (!deadline) {
      node_.hub->park(what);
    } else if (weft::detail::expired(deadline) || !node_.hub->park_until(what, *deadline)) {
      break;
    }
  }
  return node_.notice;
}

}  // namespace weft::green::detail
