// weft/selectors/poll_selector.hpp — PollSelector<Data>, Python's
// selectors.PollSelector: a selector over poll(2).
//
// No limit on descriptor values; each select() costs time in proportion to
// the number of registered files. Behaviour, blocking, errors and
// thread-safety: see BaseSelector (weft/selectors/base_selector.hpp). A
// timeout is rounded up to whole milliseconds.
#pragma once

#include <any>

#include "weft/selectors/detail/poll_backend.hpp"
#include "weft/selectors/detail/selector_core.hpp"

namespace weft::selectors {

template <class Data = std::any>
class PollSelector final : public detail::SelectorCore<Data, detail::PollBackend> {
 public:
  // Never throws (beyond std::bad_alloc).
  PollSelector() = default;
};

}  // namespace weft::selectors
