// tools/weft/descriptor_limit.hpp — the soft limit on open file
// descriptors (RLIMIT_NOFILE) raised to the hard limit, as servers and
// load generators that hold thousands of connections do (the Python peers
// of the shootout do it too), so that every server starts with the same
// room, whatever limit its parent had.
#pragma once

#include <sys/resource.h>

namespace weft::tool {

// Sets the soft RLIMIT_NOFILE to the hard one. Returns false if the limits
// cannot be read or set (the old limit stays). Never throws; does not
// block; affects the whole process and the processes it starts afterwards.
inline bool raise_descriptor_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur == limit.rlim_max) return true;
  limit.rlim_cur = limit.rlim_max;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

}  // namespace weft::tool
