// seed_check.hpp — how a seed twin says whether it showed what its seed
// document says it shows. Every check prints "[check] ok: ..." or
// "[check] FAILED: ..." (the CTest tests fail on the latter), and verdict()
// is the twin's exit status: 0 only if every check passed.
#pragma once

#include <atomic>
#include <cstdio>

namespace seed {

inline std::atomic<bool> any_failed{false};

// Thread-safe: a whole line goes out in one printf call.
inline bool check(bool ok, const char* what) {
  std::printf("[check] %s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) any_failed.store(true);
  return ok;
}

inline int verdict() {
  std::fflush(stdout);
  return any_failed.load() ? 1 : 0;
}

}  // namespace seed
