// The frames between a pool and its workers. Both ends run the same
// binary, so integers travel in host order.
//
//   to a worker:   u32 length | u8 kind | u32 function | u64 task | bytes
//   to the parent: u32 length | u8 outcome | u64 task | u32 run time (µs) | bytes
//
// `length` counts what follows it, so a frame carries at most 4 GiB:
// larger arguments are refused when submitted, and a larger result is
// answered with a ValueError in its place. A define frame carries, for a new
// function number, encode(Define); a task frame the task's arguments; a
// stop frame nothing (the worker exits). The parent gets one answer per
// task, in order, and Outcome::init_failed (task 0) if the initializer threw.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

#include "weft/errors.hpp"

namespace weft::mp::detail {

enum class FrameKind : std::uint8_t { define = 1, task = 2, stop = 3 };

inline constexpr std::size_t request_header = 4 + 1 + 4 + 8;
inline constexpr std::size_t answer_header = 4 + 1 + 8 + 4;

// Throws ValueError unless `bytes` of payload fit in a frame whose header
// is `header` bytes long.
inline void check_frame_fits(std::size_t header, std::size_t bytes, const char* what) {
  if (bytes > std::numeric_limits<std::uint32_t>::max() - (header - 4))
    throw ValueError(std::string(what) + " of " + std::to_string(bytes) +
                     " bytes exceeds the 4 GiB a pool worker's frame carries");
}

template <class T>
void put(char* at, T value) noexcept {
  std::memcpy(at, &value, sizeof(T));
}
template <class T>
T get(const char* at) noexcept {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

inline void append_request(std::string& out, FrameKind kind, std::uint32_t function, std::uint64_t task,
                           std::string_view bytes) {
  const std::size_t start = out.size();
  out.resize(start + request_header);
  char* at = out.data() + start;
  put<std::uint32_t>(at, static_cast<std::uint32_t>(request_header - 4 + bytes.size()));
  put<std::uint8_t>(at + 4, static_cast<std::uint8_t>(kind));
  put<std::uint32_t>(at + 5, function);
  put<std::uint64_t>(at + 9, task);
  out.append(bytes);
}

// The length of the complete frame at the start of `bytes` (header
// included), or 0 if it has not fully arrived.
inline std::size_t complete_frame(std::string_view bytes) noexcept {
  if (bytes.size() < 4) return 0;
  const std::size_t total = 4 + static_cast<std::size_t>(get<std::uint32_t>(bytes.data()));
  return bytes.size() >= total ? total : 0;
}

}  // namespace weft::mp::detail
