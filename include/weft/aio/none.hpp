// weft/aio/none.hpp — None, Python's "no value", where weft's asyncio needs
// a value that carries nothing: `co_yield None;` in a generator whose Yield
// is void (Python's bare `yield`).
#pragma once

namespace weft::aio {

// The type of None (Python's type(None)). All its values are equal.
struct NoneType {
  friend constexpr bool operator==(NoneType, NoneType) noexcept { return true; }
};

inline constexpr NoneType None{};

}  // namespace weft::aio
