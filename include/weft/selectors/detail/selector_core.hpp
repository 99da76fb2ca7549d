// weft/selectors/detail/selector_core.hpp — SelectorCore<Data, Backend>,
// the one implementation of BaseSelector behind SelectSelector,
// PollSelector and EpollSelector. It keeps the keys and Python's rules;
// the Backend (select_backend.hpp, poll_backend.hpp, epoll_backend.hpp)
// talks to the kernel.
//
// select() costs one kernel wait plus one key copy per ready file: the
// backend's answer goes into a buffer reused from call to call.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "weft/detail/deadline.hpp"
#include "weft/selectors/base_selector.hpp"
#include "weft/selectors/detail/checks.hpp"
#include "weft/selectors/detail/key_table.hpp"
#include "weft/selectors/detail/ready_fd.hpp"

namespace weft::selectors::detail {

template <class Data, class Backend>
class SelectorCore : public BaseSelector<Data> {
 public:
  using typename BaseSelector<Data>::Key;
  using typename BaseSelector<Data>::Map;
  using typename BaseSelector<Data>::ReadyList;

  ~SelectorCore() override { this->close(); }

 protected:
  SelectorCore() = default;

  Backend backend_;

 private:
  const Key& do_register(int fd, int events, Data data) final {
    check_events(events);
    check_fd(fd);
    if (keys_.find(fd) != nullptr) throw_already_registered(fd);
    auto key = std::make_unique<Key>(Key{fd, fd, events, std::move(data)});
    // The backend first: it refuses a descriptor it cannot watch before the
    // table grows to that descriptor's number.
    backend_.add(fd, events);
    try {
      keys_.reserve(fd);
    } catch (...) {
      backend_.remove(fd);
      throw;
    }
    return keys_.insert(std::move(key));
  }

  Key do_unregister(int fd) final {
    std::unique_ptr<Key> key = keys_.erase(fd);
    if (!key) throw_not_registered(fd);
    backend_.remove(fd);
    return std::move(*key);
  }

  const Key& do_modify(int fd, int events, Data data) final {
    Key* key = keys_.find(fd);
    if (key == nullptr) throw_not_registered(fd);
    check_events(events);
    if (events != key->events) {
      try {
        backend_.modify(fd, events);
      } catch (...) {
        backend_.remove(fd);
        keys_.erase(fd);
        throw;
      }
      key->events = events;
    }
    key->data = std::move(data);
    return *key;
  }

  void do_select(ReadyList& ready, const weft::detail::Deadline& deadline) final {
    ready.clear();
    backend_.wait(deadline, ready_fds_);
    ready.reserve(ready_fds_.size());
    for (const ReadyFd& fd : ready_fds_)
      if (const Key* key = keys_.find(fd.fd)) ready.emplace_back(*key, fd.events & key->events);
  }

  void do_close() noexcept final {
    backend_.close();
    keys_.clear();
  }

  const Map& do_get_map() const noexcept final { return keys_; }

  KeyTable<Data> keys_;
  std::vector<ReadyFd> ready_fds_;
};

}  // namespace weft::selectors::detail
