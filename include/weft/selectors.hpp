// weft/selectors.hpp — Python's `selectors` module for C++: high-level I/O
// multiplexing over select(2), poll(2) and epoll(7).
//
//   EVENT_READ, EVENT_WRITE, SelectorKey<Data>   (weft/selectors/key.hpp)
//   FileRef: an fd or an object with fileno()   (weft/selectors/fileobj.hpp)
//   BaseSelector<Data>: register_, unregister, modify, select, select_into,
//     close, get_key, try_get_key, get_map      (weft/selectors/base_selector.hpp)
//   SelectorMap<Data>: what get_map() returns   (weft/selectors/selector_map.hpp)
//   SelectSelector<Data>                        (weft/selectors/select_selector.hpp)
//   PollSelector<Data>                          (weft/selectors/poll_selector.hpp)
//   EpollSelector<Data>                         (weft/selectors/epoll_selector.hpp)
//   DefaultSelector<Data>: the best one here, EpollSelector
//
// `Data` is what each registration carries (Python's `data`): std::any by
// default; a callback type such as std::function<void(int fd, int events)>
// or a pointer to per-connection state avoids std::any's casts.
//
//   weft::selectors::DefaultSelector<std::function<void(int)>> sel;
//   sel.register_(listener, weft::selectors::EVENT_READ, accept_cb);
//   for (;;)
//     for (auto& [key, events] : sel.select()) key.data(key.fd);
//
// Linux only. Errors are Python's: ValueError, KeyError, RuntimeError
// (weft/errors.hpp); OS failures are std::system_error.
#pragma once

#include <any>

#include "weft/errors.hpp"
#include "weft/selectors/base_selector.hpp"
#include "weft/selectors/epoll_selector.hpp"
#include "weft/selectors/fileobj.hpp"
#include "weft/selectors/key.hpp"
#include "weft/selectors/poll_selector.hpp"
#include "weft/selectors/select_selector.hpp"
#include "weft/selectors/selector_map.hpp"

namespace weft::selectors {

// The most efficient selector on this platform: epoll on Linux.
template <class Data = std::any>
using DefaultSelector = EpollSelector<Data>;

}  // namespace weft::selectors
