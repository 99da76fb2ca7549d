// weft/selectors/select_selector.hpp — SelectSelector<Data>, Python's
// selectors.SelectSelector: a selector over select(2).
//
// Portable and simple, but limited to descriptors below FD_SETSIZE (1024):
// register_ throws ValueError for a larger one. Each select() costs time in
// proportion to the highest registered descriptor. Behaviour, blocking,
// errors and thread-safety: see BaseSelector (weft/selectors/base_selector.hpp).
// A timeout is rounded up to whole microseconds. As in Python, a registered
// descriptor that was closed makes select() throw std::system_error (EBADF):
// unregister before closing.
#pragma once

#include <any>

#include "weft/selectors/detail/select_backend.hpp"
#include "weft/selectors/detail/selector_core.hpp"

namespace weft::selectors {

template <class Data = std::any>
class SelectSelector final : public detail::SelectorCore<Data, detail::SelectBackend> {
 public:
  // Never throws (beyond std::bad_alloc).
  SelectSelector() = default;
};

}  // namespace weft::selectors
