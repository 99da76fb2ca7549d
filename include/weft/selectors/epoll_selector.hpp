// weft/selectors/epoll_selector.hpp — EpollSelector<Data>, Python's
// selectors.EpollSelector: a selector over a level-triggered epoll(7)
// instance, and Linux's DefaultSelector.
//
// Each select() costs time in proportion to the number of ready files, not
// registered ones. The epoll descriptor is close-on-exec. Behaviour,
// blocking, errors and thread-safety: see BaseSelector
// (weft/selectors/base_selector.hpp). A timeout is rounded up to whole
// milliseconds. register_ throws std::system_error where epoll refuses a
// file (EPERM: a regular file or directory).
//
// Like any epoll user, beware of a descriptor closed while registered whose
// file stays open through a dup(): the kernel keeps reporting it. Unregister
// before closing.
#pragma once

#include <any>

#include "weft/selectors/detail/checks.hpp"
#include "weft/selectors/detail/epoll_backend.hpp"
#include "weft/selectors/detail/selector_core.hpp"

namespace weft::selectors {

template <class Data = std::any>
class EpollSelector final : public detail::SelectorCore<Data, detail::EpollBackend> {
 public:
  // Creates the epoll instance. Throws std::system_error if it cannot (out
  // of descriptors).
  EpollSelector() = default;

  // The epoll descriptor, to nest this selector in another one. Never
  // blocks. Throws RuntimeError if the selector is closed.
  int fileno() const {
    const int fd = this->backend_.fileno();
    if (fd < 0) detail::throw_closed();
    return fd;
  }
};

}  // namespace weft::selectors
