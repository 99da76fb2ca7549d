// tools/weft/serve/accept_backoff.hpp — what a server does when accept()
// fails for want of descriptors or memory: the listener stays readable, so
// trying again at once would spin on it; it waits a moment for connections
// to close instead, as gevent's and libuv's servers do.
#pragma once

#include <cerrno>
#include <chrono>

namespace weft::tool {

inline constexpr std::chrono::milliseconds kAcceptBackoff{10};

// Whether an accept() that failed with `error` should wait kAcceptBackoff.
inline bool accept_must_back_off(int error) noexcept {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace weft::tool
