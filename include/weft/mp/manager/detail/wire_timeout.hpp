// weft/mp/manager/detail/wire_timeout.hpp — how a proxy sends a timeout to
// a manager's server: as optional seconds (a double; nil waits for ever).
#pragma once

#include <chrono>
#include <optional>

namespace weft::mp::detail {

// A proxy's timeout: any std::chrono duration converts to it.
using ProxyTimeout = std::optional<std::chrono::duration<double>>;

inline std::optional<double> wire_timeout(const ProxyTimeout& timeout) noexcept {
  if (!timeout) return std::nullopt;
  return timeout->count();
}

}  // namespace weft::mp::detail
