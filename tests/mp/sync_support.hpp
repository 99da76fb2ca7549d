// Helpers of the synchronize and sharedctypes tests: forked children (Child, always reaped) run
// in groups, and the check a child fails by.
#pragma once

#include <functional>
#include <vector>

#include "mp/connection_support.hpp"

namespace weft::test {

// Forks `n` children running body(i); all are killed and reaped when the vector goes away.
inline std::vector<Child> fork_children(int n, const std::function<void(int)>& body) {
  std::vector<Child> children;
  children.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) children.push_back(Child::fork([&body, i] { body(i); }));
  return children;
}

// Waits for every child; true if all exited with status 0.
inline bool all_succeed(std::vector<Child>& children) {
  bool ok = true;
  for (Child& child : children) ok = child.wait() == 0 && ok;
  return ok;
}

// In a child: fails (exit status 1) unless `condition` holds.
inline void require(bool condition) {
  if (!condition) throw std::runtime_error("requirement failed in child");
}

}  // namespace weft::test
